{#- Visits to the shop that evidence a campaign, one row per (visit, campaign, kind). A visit is
    a site (pixel) event or an order's landing URL. It evidences a campaign
    * as `vanity_url` when its URL's host and path equal one of the campaign's vanity URLs
      (stg_files__placements.vanity_url), both reduced alike: case, scheme, a leading www., the
      query string and a trailing slash do not matter (macros/signals.sql, normalise_url_path);
    * as `utm` when its query tags the podcast channel (utm_source or utm_medium is `podcast`)
      and utm_campaign names the campaign's id (case-insensitive).
    The household is the visit's network (null without a usable address); int_signal_conversions
    links a visit to the household's conversions within the attribution lookback. The URL itself
    is not kept: a query string can carry personal data. -#}

with

site_events as (

    select
        tenant_id,
        event_id,
        occurred_at,
        network_key,
        url
    from {{ ref('stg_files__site_events') }}
    where {{ tenant_filter('tenant_id') }}
        and url is not null

),

orders as (

    select
        tenant_id,
        order_id,
        ordered_at,
        network_key,
        landing_url
    from {{ ref('stg_files__orders') }}
    where {{ tenant_filter('tenant_id') }}
        and landing_url is not null

),

placements as (

    select
        tenant_id,
        campaign_id,
        vanity_url
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}

),

campaigns as (

    select
        tenant_id,
        campaign_id
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}

),

households as (

    select
        tenant_id,
        household_id,
        ip_class
    from {{ ref('int_households') }}
    where {{ tenant_filter('tenant_id') }}

),

visits as (

    select
        tenant_id,
        'site_event' as visit_source,
        event_id as source_record_id,
        occurred_at as visited_at,
        network_key,
        url
    from site_events

    union all

    select
        tenant_id,
        'order_landing' as visit_source,
        order_id as source_record_id,
        ordered_at as visited_at,
        network_key,
        landing_url as url
    from orders

),

distinct_urls as (

    -- URLs repeat (the home page, product pages, the cart): each distinct URL is parsed once
    -- and only the matching ones are joined back to the visits.
    select distinct
        tenant_id,
        url
    from visits

),

parsed_urls as (

    select
        tenant_id,
        url,
        {{ normalise_url_path('url') }} as url_path,
        {{ url_query_param('url', 'utm_source') }} as utm_source,
        {{ url_query_param('url', 'utm_medium') }} as utm_medium,
        {{ url_query_param('url', 'utm_campaign') }} as utm_campaign
    from distinct_urls

),

campaign_vanity_urls as (

    select distinct
        tenant_id,
        campaign_id,
        {{ normalise_url_path('vanity_url') }} as url_path
    from placements
    where {{ normalise_url_path('vanity_url') }} is not null

),

vanity_url_matches as (

    select
        parsed_urls.tenant_id,
        parsed_urls.url,
        campaign_vanity_urls.campaign_id,
        'vanity_url' as visit_kind,
        campaign_vanity_urls.url_path as matched_value
    from parsed_urls
    inner join campaign_vanity_urls
        on campaign_vanity_urls.tenant_id = parsed_urls.tenant_id
        and campaign_vanity_urls.url_path = parsed_urls.url_path

),

utm_matches as (

    select
        parsed_urls.tenant_id,
        parsed_urls.url,
        campaigns.campaign_id,
        'utm' as visit_kind,
        parsed_urls.utm_campaign as matched_value
    from parsed_urls
    inner join campaigns
        on campaigns.tenant_id = parsed_urls.tenant_id
        and lower(campaigns.campaign_id) = parsed_urls.utm_campaign
    where parsed_urls.utm_source = 'podcast'
        or parsed_urls.utm_medium = 'podcast'

),

url_matches as (

    select * from vanity_url_matches
    union all
    select * from utm_matches

),

matched_visits as (

    select
        visits.tenant_id,
        visits.visit_source,
        visits.source_record_id,
        visits.visited_at,
        visits.network_key,
        url_matches.campaign_id,
        url_matches.visit_kind,
        url_matches.matched_value
    from visits
    inner join url_matches
        on url_matches.tenant_id = visits.tenant_id
        and url_matches.url = visits.url

),

with_household as (

    select
        matched_visits.*,
        -- null without a network: the hash of null is null on every engine
        {{ household_id_for_network('matched_visits.network_key') }} as household_id
    from matched_visits

),

final as (

    select
        with_household.tenant_id,
        {{ hashed_id([
            'with_household.tenant_id', 'with_household.visit_source',
            'with_household.source_record_id', 'with_household.campaign_id',
            'with_household.visit_kind',
        ]) }} as visit_id,
        cast(with_household.visit_source as {{ dbt.type_string() }}) as visit_source,
        with_household.source_record_id,
        with_household.campaign_id,
        cast(with_household.visit_kind as {{ dbt.type_string() }}) as visit_kind,
        with_household.matched_value,
        with_household.household_id,
        households.ip_class,
        with_household.visited_at
    from with_household
    left join households
        on households.tenant_id = with_household.tenant_id
        and households.household_id = with_household.household_id

)

select * from final
