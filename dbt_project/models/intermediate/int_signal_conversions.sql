{#- Every piece of evidence that a campaign drove a conversion, one row per (conversion,
    campaign, signal):
    * promo_code: the order redeemed one of the campaign's codes (int_promo_code_redemptions);
    * vanity_url / utm: a visit of the household evidencing the campaign (int_site_visits) within
      the attribution window before the conversion (var lookback_days, the window paths use), or
      a visit of the conversion's own record: an order's landing URL and its journey events
      (site events naming the order), a lead's or deal's landing URL; these evidence their
      conversion whatever their network and time, because the source itself tied them to it;
    * survey: the conversion's survey answer names a show or advertiser of the campaign
      (int_survey_mentions; orders, leads and deals);
    * podcast_impression: a touch of the campaign on the conversion's path (int_conversion_paths).
    `is_primary` marks the one row per conversion that the combined view counts: the signal
    ranked highest in var signal_priority (signals left out of it are never primary); among
    campaigns with that signal the latest evidence (closest to the conversion) wins, then the
    campaign id compared byte-wise, so every engine picks the same row. -#}
{%- set signals = signal_names() %}
{#- A visit of the conversion's own record: the visit belongs to a record of the conversion's
    kind (an order's landing or journey, a lead's or deal's landing) with the conversion's id.
    Written once, as the join of own_record_visit_evidence and the exclusion in
    household_visit_evidence, so a visit counts once for its conversion. Plain equalities, so
    the join stays a hash join; a site event has no evidenced_record_type, and the null this
    gives for it is read as "not its own record" where the rule is negated. -#}
{%- set is_own_record_visit -%}
    conversions.source_record_type = visits.evidenced_record_type
        and conversions.source_record_id = visits.source_record_id
{%- endset %}

with

conversions as (

    select
        tenant_id,
        conversion_id,
        household_id,
        ip_class,
        conversion_ts,
        revenue,
        source_record_type,
        source_record_id
    from {{ ref('int_conversions') }}
    where {{ tenant_filter('tenant_id') }}

),

redemptions as (

    select * from {{ ref('int_promo_code_redemptions') }}
    where {{ tenant_filter('tenant_id') }}

),

visits as (

    select * from {{ ref('int_site_visits') }}
    where {{ tenant_filter('tenant_id') }}

),

mentions as (

    select * from {{ ref('int_survey_mentions') }}
    where {{ tenant_filter('tenant_id') }}

),

paths as (

    select
        tenant_id,
        conversion_id,
        campaign_id,
        touch_ts
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}

),

visit_touches as (

    select
        tenant_id,
        household_id,
        campaign_id,
        visit_kind,
        evidenced_record_type,
        source_record_id,
        visited_at as touch_ts
    from visits
    where household_id is not null

),

promo_code_evidence as (

    select
        tenant_id,
        conversion_id,
        campaign_id,
        'promo_code' as signal,
        redeemed_at as evidence_ts
    from redemptions

),

household_visit_evidence as (

    -- Visits of the converting household in its window, the rule paths use
    -- (touch_in_lookback_window in macros/attribution/attribution_settings.sql).
    -- A visit of the conversion's own record is evidenced once, in own_record_visit_evidence.
    select
        conversions.tenant_id,
        conversions.conversion_id,
        visits.campaign_id,
        visits.visit_kind as signal,
        visits.touch_ts as evidence_ts
    from conversions
    inner join visit_touches as visits
        on {{ touch_in_lookback_window('visits', 'conversions') }}
    where not coalesce({{ is_own_record_visit }}, false)

),

own_record_visit_evidence as (

    -- An order's own landing URL and journey events, and a lead's or deal's own landing URL,
    -- evidence that conversion, with or without a household: the source tied them to it (a
    -- journey event may come from another network than the order, or from none).
    select
        conversions.tenant_id,
        conversions.conversion_id,
        visits.campaign_id,
        visits.visit_kind as signal,
        visits.visited_at as evidence_ts
    from visits
    inner join conversions
        on conversions.tenant_id = visits.tenant_id
        and {{ is_own_record_visit }}

),

survey_evidence as (

    select
        tenant_id,
        conversion_id,
        campaign_id,
        'survey' as signal,
        mentioned_at as evidence_ts
    from mentions

),

impression_evidence as (

    select
        tenant_id,
        conversion_id,
        campaign_id,
        'podcast_impression' as signal,
        touch_ts as evidence_ts
    from paths

),

evidence as (

    select * from promo_code_evidence
    union all
    select * from household_visit_evidence
    union all
    select * from own_record_visit_evidence
    union all
    select * from survey_evidence
    union all
    select * from impression_evidence

),

per_signal as (

    select
        tenant_id,
        conversion_id,
        campaign_id,
        signal,
        cast(count(*) as {{ dbt.type_bigint() }}) as evidence_count,
        min(evidence_ts) as first_evidence_at,
        max(evidence_ts) as last_evidence_at
    from evidence
    group by tenant_id, conversion_id, campaign_id, signal

),

ranked as (

    select
        per_signal.*,
        {{ signal_priority_rank('per_signal.signal') }} as signal_priority
    from per_signal

),

numbered as (

    select
        ranked.*,
        row_number() over (
            partition by tenant_id, conversion_id
            order by
                case when signal_priority is null then 1 else 0 end,
                signal_priority,
                last_evidence_at desc,
                {{ attribution_id_order('campaign_id') }}
        ) as conversion_rank
    from ranked

),

final as (

    select
        numbered.tenant_id,
        numbered.conversion_id,
        numbered.campaign_id,
        cast(numbered.signal as {{ dbt.type_string() }}) as signal,
        conversions.household_id,
        conversions.ip_class,
        coalesce(conversions.ip_class = 'household', false) as is_observed,
        conversions.conversion_ts,
        conversions.revenue,
        numbered.evidence_count,
        numbered.first_evidence_at,
        numbered.last_evidence_at,
        cast(numbered.signal_priority as {{ dbt.type_bigint() }}) as signal_priority,
        (numbered.conversion_rank = 1 and numbered.signal_priority is not null) as is_primary
    from numbered
    inner join conversions
        on conversions.tenant_id = numbered.tenant_id
        and conversions.conversion_id = numbered.conversion_id

)

select * from final
