{#- Visits to the shop that evidence a campaign, one row per (visit, campaign, kind). A visit is
    a site (pixel) event, an order's landing URL, a CRM lead's landing URL, or a site event that
    names its order (Shopify's customer journey, WooCommerce's order attribution: visit_source
    order_journey, source_record_id the order, so the visit evidences that order directly,
    whatever network it came from, like the order's own landing URL). It evidences a campaign
    * as `vanity_url` when its URL's host and path equal one of the campaign's vanity URLs
      (stg_files__placements.vanity_url), both reduced alike: case, scheme, a leading www., the
      query string and a trailing slash do not matter (macros/signals.sql, normalise_url_path);
    * as `utm` when its tags name the podcast channel (utm_source or utm_medium is `podcast`)
      and utm_campaign names the campaign's id (case-insensitive). A tag the source sent in its
      own column (site events' and leads' utm_*) wins over the URL's query; each tag falls back
      to the query on its own.
    The household is the visit's network (null without a usable address); int_signal_conversions
    links a visit to the household's conversions within the attribution lookback, and a visit
    with an evidenced_record_type ('order' for order_landing and order_journey, 'lead' for
    lead_landing) to the conversion of that record (int_conversions.source_record_type and
    source_record_id). The URL itself is not kept: a query string can carry personal data. -#}

with

site_events as (

    select
        tenant_id,
        event_id,
        occurred_at,
        network_key,
        url,
        order_id,
        utm_source,
        utm_medium,
        utm_campaign
    from {{ ref('stg_files__site_events') }}
    where {{ tenant_filter('tenant_id') }}
        and (url is not null or utm_campaign is not null)

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

leads as (

    select
        tenant_id,
        lead_id,
        created_at,
        network_key,
        landing_url,
        utm_source,
        utm_medium,
        utm_campaign
    from {{ ref('stg_files__leads') }}
    where {{ tenant_filter('tenant_id') }}
        and (landing_url is not null or utm_campaign is not null)

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

    -- A site event that names its order is that order's journey: it evidences the order
    -- itself (int_signal_conversions), so it is keyed by the order, with its event kept apart.
    select
        tenant_id,
        case when order_id is null then 'site_event' else 'order_journey' end as visit_source,
        coalesce(order_id, event_id) as source_record_id,
        event_id,
        occurred_at as visited_at,
        network_key,
        url,
        utm_source as tag_source,
        utm_medium as tag_medium,
        utm_campaign as tag_campaign
    from site_events

    union all

    select
        tenant_id,
        'order_landing' as visit_source,
        order_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as event_id,
        ordered_at as visited_at,
        network_key,
        landing_url as url,
        cast(null as {{ dbt.type_string() }}) as tag_source,
        cast(null as {{ dbt.type_string() }}) as tag_medium,
        cast(null as {{ dbt.type_string() }}) as tag_campaign
    from orders

    union all

    select
        tenant_id,
        'lead_landing' as visit_source,
        lead_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as event_id,
        created_at as visited_at,
        network_key,
        landing_url as url,
        utm_source as tag_source,
        utm_medium as tag_medium,
        utm_campaign as tag_campaign
    from leads

),

keyed_visits as (

    -- The match key: the URL and the tags, normalised like the query's values (lower case,
    -- blank is none); '' stands for a missing part so the key joins on every engine.
    select
        visits.*,
        coalesce(url, '') as url_key,
        coalesce({{ normalise_utm_value('tag_source') }}, '') as source_key,
        coalesce({{ normalise_utm_value('tag_medium') }}, '') as medium_key,
        coalesce({{ normalise_utm_value('tag_campaign') }}, '') as campaign_key
    from visits

),

distinct_urls as (

    -- URLs repeat (the home page, product pages, the cart): each distinct URL and tag set is
    -- parsed once and only the matching ones are joined back to the visits.
    select distinct
        tenant_id,
        url,
        url_key,
        source_key,
        medium_key,
        campaign_key
    from keyed_visits

),

parsed_urls as (

    select
        tenant_id,
        url_key,
        source_key,
        medium_key,
        campaign_key,
        {{ normalise_url_path('url') }} as url_path,
        coalesce(nullif(source_key, ''), {{ url_query_param('url', 'utm_source') }}) as utm_source,
        coalesce(nullif(medium_key, ''), {{ url_query_param('url', 'utm_medium') }}) as utm_medium,
        coalesce(nullif(campaign_key, ''), {{ url_query_param('url', 'utm_campaign') }})
            as utm_campaign
    from distinct_urls

),

campaign_vanity_urls as (

    {{ campaign_vanity_urls('placements') }}

),

vanity_url_matches as (

    select
        parsed_urls.tenant_id,
        parsed_urls.url_key,
        parsed_urls.source_key,
        parsed_urls.medium_key,
        parsed_urls.campaign_key,
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
        parsed_urls.url_key,
        parsed_urls.source_key,
        parsed_urls.medium_key,
        parsed_urls.campaign_key,
        campaigns.campaign_id,
        'utm' as visit_kind,
        parsed_urls.utm_campaign as matched_value
    from parsed_urls
    inner join campaigns
        on campaigns.tenant_id = parsed_urls.tenant_id
        and lower(campaigns.campaign_id) = parsed_urls.utm_campaign
    where {{ is_podcast_utm('parsed_urls.utm_source', 'parsed_urls.utm_medium') }}

),

url_matches as (

    select * from vanity_url_matches
    union all
    select * from utm_matches

),

matched_visits as (

    select
        keyed_visits.tenant_id,
        keyed_visits.visit_source,
        keyed_visits.source_record_id,
        keyed_visits.event_id,
        keyed_visits.visited_at,
        keyed_visits.network_key,
        url_matches.campaign_id,
        url_matches.visit_kind,
        url_matches.matched_value
    from keyed_visits
    inner join url_matches
        on url_matches.tenant_id = keyed_visits.tenant_id
        and url_matches.url_key = keyed_visits.url_key
        and url_matches.source_key = keyed_visits.source_key
        and url_matches.medium_key = keyed_visits.medium_key
        and url_matches.campaign_key = keyed_visits.campaign_key

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
        -- A journey has several events per order: its visits are told apart by their event.
        {{ hashed_id([
            'with_household.tenant_id', 'with_household.visit_source',
            'coalesce(with_household.event_id, with_household.source_record_id)',
            'with_household.campaign_id', 'with_household.visit_kind',
        ]) }} as visit_id,
        cast(with_household.visit_source as {{ dbt.type_string() }}) as visit_source,
        with_household.source_record_id,
        -- The kind of record a landing or journey visit belongs to, and so evidences directly;
        -- a plain site event belongs to no conversion's record.
        cast(case
            when with_household.visit_source in ('order_landing', 'order_journey') then 'order'
            when with_household.visit_source = 'lead_landing' then 'lead'
        end as {{ dbt.type_string() }}) as evidenced_record_type,
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
