{#- Reach and frequency, de-duplicated at household level (docs/user/marts.md,
    docs/user/attribution.md "Reach, overlap and lag"). One row per tenant and scope:
      tenant         every impression of the tenant (campaign_id and show_id null)
      campaign       one campaign across all its shows
      show           one show across all campaigns (show_id null: episodes missing from the
                     catalogue)
      campaign_show  one campaign on one show
    A household is counted once per scope however many impressions, placements, shows or
    campaigns reached it, so the tenant's reach is less than the sum of the campaigns' reaches
    when their audiences overlap. The frequency buckets split the reach: households_1 +
    households_2 + households_3 + households_4 + households_5_plus = reach. Delivery counts
    every network class (as fct_campaign_performance.reach does); the household_ip_ columns are
    the part observed results can come from. -#}

with

impressions as (

    select
        tenant_id,
        campaign_id,
        show_id,
        household_id,
        ip_class
    from {{ ref('int_ad_impressions') }}
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

household_campaign_show as (

    -- The finest grain: one row per household, campaign and show with its impressions. Every
    -- coarser scope sums these counts per household, so impressions are read once.
    select
        impressions.tenant_id,
        impressions.campaign_id,
        impressions.show_id,
        impressions.household_id,
        -- The household's final class (int_households, after the behaviour rules); the
        -- download's own class is the same network's and stands in should it be missing.
        max(
            case
                when coalesce(households.ip_class, impressions.ip_class) = 'household' then 1
                else 0
            end
        ) as is_household_ip,
        count(*) as impressions

    from impressions
    left join households
        on impressions.tenant_id = households.tenant_id
        and impressions.household_id = households.household_id
    group by
        impressions.tenant_id,
        impressions.campaign_id,
        impressions.show_id,
        impressions.household_id

),

household_scopes as (

    select
        tenant_id,
        'campaign_show' as scope,
        campaign_id,
        show_id,
        household_id,
        is_household_ip,
        impressions
    from household_campaign_show

    union all

    select
        tenant_id,
        'campaign' as scope,
        campaign_id,
        cast(null as {{ dbt.type_string() }}) as show_id,
        household_id,
        max(is_household_ip) as is_household_ip,
        sum(impressions) as impressions
    from household_campaign_show
    group by tenant_id, campaign_id, household_id

    union all

    select
        tenant_id,
        'show' as scope,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        show_id,
        household_id,
        max(is_household_ip) as is_household_ip,
        sum(impressions) as impressions
    from household_campaign_show
    group by tenant_id, show_id, household_id

    union all

    select
        tenant_id,
        'tenant' as scope,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as show_id,
        household_id,
        max(is_household_ip) as is_household_ip,
        sum(impressions) as impressions
    from household_campaign_show
    group by tenant_id, household_id

),

per_scope as (

    select
        tenant_id,
        scope,
        campaign_id,
        show_id,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(count(*) as {{ dbt.type_bigint() }}) as reach,
        {%- for n in [1, 2, 3, 4] %}
        cast(sum(case when impressions = {{ n }} then 1 else 0 end) as {{ dbt.type_bigint() }})
            as households_{{ n }},
        {%- endfor %}
        cast(sum(case when impressions >= 5 then 1 else 0 end) as {{ dbt.type_bigint() }})
            as households_5_plus,
        cast(max(impressions) as {{ dbt.type_bigint() }}) as max_frequency,
        cast(
            sum(case when is_household_ip = 1 then impressions else 0 end)
            as {{ dbt.type_bigint() }}
        ) as household_ip_impressions,
        cast(sum(is_household_ip) as {{ dbt.type_bigint() }}) as household_ip_reach

    from household_scopes
    group by tenant_id, scope, campaign_id, show_id

),

final as (

    select
        tenant_id,
        scope,
        campaign_id,
        show_id,
        impressions,
        reach,
        -- Both sides are doubles: PostgreSQL divides integers as integers.
        cast(impressions as {{ type_double() }}) / cast(reach as {{ type_double() }})
            as average_frequency,
        households_1,
        households_2,
        households_3,
        households_4,
        households_5_plus,
        max_frequency,
        household_ip_impressions,
        household_ip_reach

    from per_scope

)

select * from final
