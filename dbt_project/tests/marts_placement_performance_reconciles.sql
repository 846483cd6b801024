-- rpt_placement_performance adds up, per tenant, campaign and model row set: its impressions
-- equal fct_impressions', its cost the placements' cost, its observed conversions and revenue
-- the observed credits of touches on placements (fct_attribution_credits), and every model
-- of the tenant's credits has rows. Each model's rows carry the whole delivery, so every model
-- is compared on its own. Catches fan-out in its joins, groups lost to null columns and
-- models that went missing.

with

performance as (
    select *
    from {{ ref('rpt_placement_performance') }}
    where {{ tenant_filter('tenant_id') }}
),

placements as (
    select
        tenant_id,
        placement_id,
        campaign_id,
        cost
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}
),

performance_totals as (
    select
        tenant_id,
        campaign_id,
        model,
        sum(impressions) as impressions,
        sum(cost) as cost,
        sum(conversions) as conversions,
        sum(revenue) as revenue
    from performance
    group by tenant_id, campaign_id, model
),

impressions as (
    select
        tenant_id,
        campaign_id,
        sum(impressions) as impressions
    from {{ ref('fct_impressions') }}
    where {{ tenant_filter('tenant_id') }}
    group by tenant_id, campaign_id
),

cost as (
    select
        tenant_id,
        campaign_id,
        sum(coalesce(cost, 0)) as cost
    from placements
    group by tenant_id, campaign_id
),

credits as (
    select
        credits.tenant_id,
        placements.campaign_id,
        credits.model,
        sum(credits.credit) as conversions,
        sum(coalesce(credits.credited_revenue, 0)) as revenue
    from {{ ref('fct_attribution_credits') }} as credits
    inner join placements
        on placements.tenant_id = credits.tenant_id
        and placements.placement_id = credits.placement_id
    where {{ tenant_filter('credits.tenant_id') }}
        and credits.is_observed
    group by credits.tenant_id, placements.campaign_id, credits.model
),

credit_models as (
    select distinct
        tenant_id,
        model
    from {{ ref('fct_attribution_credits') }}
    where {{ tenant_filter('tenant_id') }}
),

campaign_rows as (
    select tenant_id, campaign_id from impressions
    union
    select tenant_id, campaign_id from cost
    union
    select tenant_id, campaign_id from credits
),

-- The models each tenant should have rows for: those of its credits, or one null model when
-- it has no credit yet.
expected_models as (
    select distinct
        campaign_rows.tenant_id,
        credit_models.model
    from campaign_rows
    left join credit_models
        on credit_models.tenant_id = campaign_rows.tenant_id
),

missing_models as (
    select
        expected_models.tenant_id,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        expected_models.model,
        'model has no rows' as problem,
        cast(null as {{ type_double() }}) as expected,
        cast(null as {{ type_double() }}) as actual
    from expected_models
    where not exists (
        select 1
        from performance
        where performance.tenant_id = expected_models.tenant_id
            and (
                performance.model = expected_models.model
                or (performance.model is null and expected_models.model is null)
            )
    )
),

-- Every (campaign, model) that delivery, cost or credit says should be there.
expected_rows as (
    select
        campaign_rows.tenant_id,
        campaign_rows.campaign_id,
        expected_models.model
    from campaign_rows
    inner join expected_models
        on expected_models.tenant_id = campaign_rows.tenant_id
),

compared as (
    {%- set measures = [
        ('impressions', 'impressions', 0),
        ('cost', 'cost', 0.01),
        ('conversions', 'credits', 1e-6),
        ('revenue', 'credits', 0.01),
    ] %}
    {%- for measure, source, tolerance in measures %}
    select
        expected_rows.tenant_id,
        expected_rows.campaign_id,
        expected_rows.model,
        '{{ measure }} differs from its source' as problem,
        cast(coalesce({{ source }}.{{ measure }}, 0) as {{ type_double() }}) as expected,
        cast(coalesce(performance_totals.{{ measure }}, 0) as {{ type_double() }}) as actual
    from expected_rows
    left join performance_totals
        on performance_totals.tenant_id = expected_rows.tenant_id
        and performance_totals.campaign_id = expected_rows.campaign_id
        and (
            performance_totals.model = expected_rows.model
            or (performance_totals.model is null and expected_rows.model is null)
        )
    left join {{ source }}
        on {{ source }}.tenant_id = expected_rows.tenant_id
        and {{ source }}.campaign_id = expected_rows.campaign_id
        {%- if source == 'credits' %}
        and {{ source }}.model = expected_rows.model
        {%- endif %}
    where abs(
        coalesce({{ source }}.{{ measure }}, 0) - coalesce(performance_totals.{{ measure }}, 0)
    ) > {{ tolerance }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from missing_models
union all
select * from compared
