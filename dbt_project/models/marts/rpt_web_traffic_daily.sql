{#- Web analytics traffic (Google Analytics 4) per tenant, property, day and podcast campaign.
    A reported row (one source / medium / campaign / landing page combination of a day) belongs
    to a campaign
    * by its UTM tags, as int_site_visits reads them: session_source or session_medium is
      `podcast` and session_campaign is the campaign's id (case-insensitive, trimmed); or else
    * by its landing page, when that is one of the campaign's vanity URLs (stg_files__placements,
      reduced alike by normalise_url_path). Analytics platforms report the landing page as a path
      ("/cup", with or without its query), so a path matches the vanity URL's path ("/cup" of
      "roast.example/cup"); a landing page with a host must match host and path. A vanity URL
      without a path (a whole domain) matches only by host, never every home page.
    A row names one campaign at most, so no session is counted twice: its UTM campaign first,
    then among vanity URL matches the byte-wise smallest campaign id (a vanity URL shared by two
    campaigns is ambiguous; the choice is the same on every engine). Everything else is summed
    into the day's row with a null campaign_id, so a property's rows add up to its totals.
    Aggregates only: these figures never join a household and take no part in attribution. -#}

with

traffic as (

    select * from {{ ref('stg_files__web_traffic_daily') }}
    where {{ tenant_filter('tenant_id') }}

),

campaigns as (

    select
        tenant_id,
        campaign_id
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}

),

placements as (

    select
        tenant_id,
        campaign_id,
        vanity_url
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}
        and vanity_url is not null

),

campaign_vanity_urls as (

    -- The list int_site_visits matches visits against (macros/signals.sql).
    {{ campaign_vanity_urls('placements') }}

),

campaign_vanity_paths as (

    -- The vanity URL's host and path, and its path alone ("/cup"), null without a path.
    select
        tenant_id,
        campaign_id,
        url_path,
        case
            when {{ dbt.position("'/'", 'url_path') }} > 0
                then substr(url_path, {{ dbt.position("'/'", 'url_path') }})
        end as path_only
    from campaign_vanity_urls

),

keyed_traffic as (

    select
        traffic.*,
        {{ normalise_utm_value('session_source') }} as source_key,
        {{ normalise_utm_value('session_medium') }} as medium_key,
        {{ normalise_utm_value('session_campaign') }} as campaign_key
    from traffic

),

landing_pages as (

    -- Each distinct landing page is normalised once.
    select distinct
        tenant_id,
        landing_page,
        {{ normalise_url_path('landing_page') }} as landing_path
    from traffic
    where landing_page is not null

),

landing_page_campaigns as (

    select
        landing_pages.tenant_id,
        landing_pages.landing_page,
        min({{ attribution_id_order('campaign_vanity_paths.campaign_id') }}) as campaign_id
    from landing_pages
    inner join campaign_vanity_paths
        on campaign_vanity_paths.tenant_id = landing_pages.tenant_id
        and (
            (landing_pages.landing_path like '/%' and landing_pages.landing_path = campaign_vanity_paths.path_only)
            or landing_pages.landing_path = campaign_vanity_paths.url_path
        )
    group by landing_pages.tenant_id, landing_pages.landing_page

),

utm_campaigns as (

    -- Campaign ids are compared lower-cased (the UTM rule); should two ids of a tenant differ
    -- only by case, the byte-wise smaller takes the traffic.
    select
        tenant_id,
        lower(campaign_id) as campaign_key,
        min({{ attribution_id_order('campaign_id') }}) as campaign_id
    from campaigns
    group by tenant_id, lower(campaign_id)

),

matched as (

    select
        keyed_traffic.tenant_id,
        keyed_traffic.platform,
        keyed_traffic.property_id,
        keyed_traffic.traffic_date,
        keyed_traffic.sessions,
        keyed_traffic.conversions,
        keyed_traffic.revenue,
        coalesce(utm_campaigns.campaign_id, landing_page_campaigns.campaign_id) as campaign_id,
        case
            when utm_campaigns.campaign_id is not null then 'utm'
            when landing_page_campaigns.campaign_id is not null then 'vanity_url'
        end as match_kind
    from keyed_traffic
    left join utm_campaigns
        on utm_campaigns.tenant_id = keyed_traffic.tenant_id
        and utm_campaigns.campaign_key = keyed_traffic.campaign_key
        and {{ is_podcast_utm('keyed_traffic.source_key', 'keyed_traffic.medium_key') }}
    left join landing_page_campaigns
        on landing_page_campaigns.tenant_id = keyed_traffic.tenant_id
        and landing_page_campaigns.landing_page = keyed_traffic.landing_page

),

final as (

    select
        tenant_id,
        platform,
        property_id,
        traffic_date,
        campaign_id,
        cast(coalesce(sum(sessions), 0) as {{ dbt.type_bigint() }}) as sessions,
        cast(coalesce(sum(conversions), 0) as {{ type_double() }}) as conversions,
        cast(coalesce(sum(revenue), 0) as {{ type_double() }}) as revenue,
        cast(coalesce(sum(case when match_kind = 'utm' then sessions end), 0)
            as {{ dbt.type_bigint() }}) as utm_sessions,
        cast(coalesce(sum(case when match_kind = 'vanity_url' then sessions end), 0)
            as {{ dbt.type_bigint() }}) as vanity_url_sessions
    from matched
    group by tenant_id, platform, property_id, traffic_date, campaign_id

)

select * from final
