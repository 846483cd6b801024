{#- Conversions and revenue per campaign and signal, plus a `combined` row per campaign, for every
    campaign of stg_files__campaigns (zeros when a signal found nothing). A signal row counts each
    conversion the signal evidences for the campaign once, whatever other signals say: one order
    can count under promo_code and under survey, and for two campaigns. The combined row counts
    only the conversions whose primary evidence (int_signal_conversions.is_primary, by var
    signal_priority) is the campaign's, so each conversion is in exactly one campaign's combined
    row and the combined rows add up across campaigns. Observed (the conversion's household IP
    class is household) and modelled (every other class, or no household) are separate columns,
    never added together, as in fct_campaign_performance. -#}

with

campaigns as (
    select
        tenant_id,
        campaign_id
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}
),

signal_conversions as (
    select
        tenant_id,
        conversion_id,
        campaign_id,
        signal,
        is_observed,
        revenue,
        is_primary
    from {{ ref('int_signal_conversions') }}
    where {{ tenant_filter('tenant_id') }}
),

signals as (
    {%- for name in signal_names() + ['combined'] %}
    select
        cast('{{ name }}' as {{ dbt.type_string() }}) as signal,
        {{ loop.index }} as report_order
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {%- endfor %}
),

evidence_rows as (
    select
        tenant_id,
        campaign_id,
        signal,
        conversion_id,
        is_observed,
        revenue
    from signal_conversions

    union all

    select
        tenant_id,
        campaign_id,
        'combined' as signal,
        conversion_id,
        is_observed,
        revenue
    from signal_conversions
    where is_primary
),

per_campaign_signal as (
    -- (conversion, campaign, signal) is unique in int_signal_conversions and one conversion has
    -- one primary row, so these are plain counts and sums of distinct conversions.
    select
        tenant_id,
        campaign_id,
        signal,
        sum(case when is_observed then 1 else 0 end) as conversions,
        sum(case when is_observed then revenue else 0 end) as revenue,
        sum(case when is_observed then 0 else 1 end) as modelled_conversions,
        sum(case when is_observed then 0 else revenue end) as modelled_revenue
    from evidence_rows
    group by tenant_id, campaign_id, signal
),

final as (
    select
        campaigns.tenant_id,
        campaigns.campaign_id,
        signals.signal,
        cast(signals.report_order as {{ dbt.type_bigint() }}) as report_order,
        cast({{ signal_priority_rank('signals.signal') }} as {{ dbt.type_bigint() }})
            as signal_priority,
        cast(coalesce(per_campaign_signal.conversions, 0) as {{ dbt.type_bigint() }})
            as conversions,
        cast(coalesce(per_campaign_signal.revenue, 0) as {{ type_double() }}) as revenue,
        cast(coalesce(per_campaign_signal.modelled_conversions, 0) as {{ dbt.type_bigint() }})
            as modelled_conversions,
        cast(coalesce(per_campaign_signal.modelled_revenue, 0) as {{ type_double() }})
            as modelled_revenue
    from campaigns
    cross join signals
    left join per_campaign_signal
        on per_campaign_signal.tenant_id = campaigns.tenant_id
        and per_campaign_signal.campaign_id = campaigns.campaign_id
        and per_campaign_signal.signal = signals.signal
)

select * from final
