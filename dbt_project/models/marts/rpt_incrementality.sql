{#- Incrementality per campaign, observed (household-class networks) and modelled (every other
    class) apart: one row per campaign of stg_files__campaigns and is_observed, from the matched
    groups of int_incrementality_households (docs/user/incrementality.md).
      p_e  exposed conversion rate: matched exposed households converting within the window;
      p_c  control rate: the matching weights' average over matched controls (the controls
           re-weighted to the exposed households' strata);
      n_c* Kish's effective control size, (sum w)^2 / sum w^2, the sample size the weighted
           rate is worth.
    absolute_lift = p_e - p_c with a Wald interval, se = sqrt(p_e(1-p_e)/n_e + p_c(1-p_c)/n_c*);
    relative_lift = p_e / p_c - 1 with its interval from log(p_e / p_c) (delta method);
    incremental conversions and revenue scale the per-household differences by n_e. p_value:
    two-sided two-proportion z-test with the pooled rate and n_c*. The minimum detectable
    effect: (z_(1-alpha/2) + z_power) * sqrt(p_c(1-p_c)(1/n_e + 1/n_c*)). result_status is
    insufficient_sample, with the estimates null, when a group has fewer matched households than
    var incrementality_min_group_households, no control converted, or the minimum detectable
    relative lift exceeds var incrementality_min_relative_lift. -#}
{%- set settings = incrementality_settings() %}
{%- set z_interval = normal_quantile(1.0 - (1.0 - settings.confidence) / 2.0) %}
{%- set z_power = normal_quantile(settings.power) %}

with

campaigns as (

    select
        tenant_id,
        campaign_id
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}

),

study_households as (

    select
        tenant_id,
        campaign_id,
        study_group,
        is_observed,
        is_matched,
        match_weight,
        converted,
        conversions,
        revenue
    from {{ ref('int_incrementality_households') }}
    where {{ tenant_filter('tenant_id') }}

),

classes as (

    select true as is_observed
    union all
    select false as is_observed

),

group_figures as (

    select
        tenant_id,
        campaign_id,
        is_observed,
        sum(case when study_group = 'exposed' then 1 else 0 end) as exposed_households,
        sum(case when study_group = 'control' then 1 else 0 end) as control_candidates,
        sum(case when study_group = 'exposed' and is_matched then 1 else 0 end)
            as matched_exposed,
        sum(case when study_group = 'control' and is_matched then 1 else 0 end)
            as matched_control,
        sum(case when study_group = 'exposed' and is_matched and converted then 1 else 0 end)
            as exposed_converted,
        sum(case when study_group = 'control' and is_matched and converted then 1 else 0 end)
            as control_converted,
        sum(case when study_group = 'exposed' and is_matched then revenue else 0 end)
            as exposed_revenue,
        sum(case when study_group = 'control' then match_weight else 0 end) as control_weight,
        sum(case when study_group = 'control' then match_weight * match_weight else 0 end)
            as control_weight_squared,
        sum(case when study_group = 'control' and converted then match_weight else 0 end)
            as control_weighted_converted,
        sum(case when study_group = 'control' then match_weight * revenue else 0 end)
            as control_weighted_revenue
    from study_households
    group by tenant_id, campaign_id, is_observed

),

joined as (

    select
        campaigns.tenant_id,
        campaigns.campaign_id,
        classes.is_observed,
        cast(coalesce(group_figures.exposed_households, 0) as {{ dbt.type_bigint() }})
            as exposed_households,
        cast(coalesce(group_figures.control_candidates, 0) as {{ dbt.type_bigint() }})
            as control_candidate_households,
        cast(coalesce(group_figures.matched_exposed, 0) as {{ dbt.type_bigint() }})
            as matched_exposed_households,
        cast(coalesce(group_figures.matched_control, 0) as {{ dbt.type_bigint() }})
            as matched_control_households,
        cast(coalesce(group_figures.exposed_converted, 0) as {{ dbt.type_bigint() }})
            as exposed_conversions,
        cast(coalesce(group_figures.control_converted, 0) as {{ dbt.type_bigint() }})
            as control_conversions,
        cast(coalesce(group_figures.exposed_revenue, 0) as {{ type_double() }}) as exposed_revenue,
        cast(coalesce(group_figures.control_weight, 0) as {{ type_double() }}) as control_weight,
        cast(coalesce(group_figures.control_weight_squared, 0) as {{ type_double() }})
            as control_weight_squared,
        cast(coalesce(group_figures.control_weighted_converted, 0) as {{ type_double() }})
            as control_weighted_converted,
        cast(coalesce(group_figures.control_weighted_revenue, 0) as {{ type_double() }})
            as control_weighted_revenue
    from campaigns
    cross join classes
    left join group_figures
        on group_figures.tenant_id = campaigns.tenant_id
        and group_figures.campaign_id = campaigns.campaign_id
        and group_figures.is_observed = classes.is_observed

),

rates as (

    select
        joined.*,
        case when control_weight_squared > 0
            then control_weight * control_weight / control_weight_squared
        end as effective_control_households,
        case when matched_exposed_households > 0
            then cast(exposed_conversions as {{ type_double() }})
                / cast(matched_exposed_households as {{ type_double() }})
        end as exposed_conversion_rate,
        case when control_weight > 0
            then control_weighted_converted / control_weight
        end as control_conversion_rate,
        case when matched_exposed_households > 0
            then exposed_revenue / cast(matched_exposed_households as {{ type_double() }})
        end as exposed_revenue_per_household,
        case when control_weight > 0
            then control_weighted_revenue / control_weight
        end as control_revenue_per_household
    from joined

),

errors as (

    select
        rates.*,
        cast(matched_exposed_households as {{ type_double() }}) as n_e,
        -- Standard error of p_e - p_c (unpooled, for the interval) ...
        sqrt(
            exposed_conversion_rate * (1.0 - exposed_conversion_rate)
                / cast(matched_exposed_households as {{ type_double() }})
            + control_conversion_rate * (1.0 - control_conversion_rate)
                / effective_control_households
        ) as se_difference,
        -- ... under the null hypothesis (pooled rate, for the test) ...
        (cast(exposed_conversions as {{ type_double() }})
            + control_conversion_rate * effective_control_households)
            / (cast(matched_exposed_households as {{ type_double() }})
                + effective_control_households) as pooled_rate,
        -- ... and of log(p_e / p_c), for the relative lift's interval.
        case when exposed_conversion_rate > 0 and control_conversion_rate > 0
            then sqrt(
                (1.0 - exposed_conversion_rate)
                    / (cast(matched_exposed_households as {{ type_double() }})
                        * exposed_conversion_rate)
                + (1.0 - control_conversion_rate)
                    / (effective_control_households * control_conversion_rate)
            )
        end as se_log_ratio,
        -- The smallest absolute lift detectable at the configured power and confidence.
        ({{ z_interval }} + {{ z_power }}) * sqrt(
            control_conversion_rate * (1.0 - control_conversion_rate)
            * (1.0 / cast(matched_exposed_households as {{ type_double() }})
                + 1.0 / effective_control_households)
        ) as minimum_detectable_lift
    from rates
    where matched_exposed_households > 0 and effective_control_households > 0

),

tests as (

    select
        tenant_id,
        campaign_id,
        is_observed,
        se_difference,
        se_log_ratio,
        minimum_detectable_lift,
        case when control_conversion_rate > 0
            then minimum_detectable_lift / control_conversion_rate
        end as minimum_detectable_relative_lift,
        case when pooled_rate > 0 and pooled_rate < 1
            then (exposed_conversion_rate - control_conversion_rate) / sqrt(
                pooled_rate * (1.0 - pooled_rate)
                * (1.0 / n_e + 1.0 / effective_control_households)
            )
        end as z_score
    from errors

),

statuses as (

    select
        rates.*,
        tests.se_difference,
        tests.se_log_ratio,
        tests.minimum_detectable_lift,
        tests.minimum_detectable_relative_lift,
        tests.z_score,
        case
            when rates.matched_exposed_households < {{ settings.min_group_households }}
                or rates.matched_control_households < {{ settings.min_group_households }}
                or tests.minimum_detectable_relative_lift is null
                or tests.minimum_detectable_relative_lift > {{ settings.min_relative_lift }}
                then 'insufficient_sample'
            else 'estimated'
        end as result_status
    from rates
    left join tests
        on tests.tenant_id = rates.tenant_id
        and tests.campaign_id = rates.campaign_id
        and tests.is_observed = rates.is_observed

),

estimates as (

    select
        statuses.*,
        case when result_status = 'estimated'
            then exposed_conversion_rate - control_conversion_rate
        end as absolute_lift,
        case when result_status = 'estimated'
            then exposed_conversion_rate - control_conversion_rate - {{ z_interval }} * se_difference
        end as absolute_lift_ci_low,
        case when result_status = 'estimated'
            then exposed_conversion_rate - control_conversion_rate + {{ z_interval }} * se_difference
        end as absolute_lift_ci_high,
        case when result_status = 'estimated'
            then exposed_conversion_rate / control_conversion_rate - 1.0
        end as relative_lift,
        case when result_status = 'estimated' and se_log_ratio is not null
            then exp(ln(exposed_conversion_rate / control_conversion_rate)
                - {{ z_interval }} * se_log_ratio) - 1.0
        end as relative_lift_ci_low,
        -- Capped below exp()'s overflow (PostgreSQL raises an error there): only a control
        -- rate near 0 with a permissive incrementality_min_relative_lift gets near it.
        case when result_status = 'estimated' and se_log_ratio is not null
            then exp(least(ln(exposed_conversion_rate / control_conversion_rate)
                + {{ z_interval }} * se_log_ratio, 700.0)) - 1.0
        end as relative_lift_ci_high,
        case when result_status = 'estimated'
            then (exposed_revenue_per_household - control_revenue_per_household)
                * cast(matched_exposed_households as {{ type_double() }})
        end as incremental_revenue,
        case when result_status = 'estimated' and z_score is not null
            then 2.0 * (1.0 - {{ normal_cdf('abs(z_score)') }})
        end as p_value
    from statuses

),

final as (

    select
        tenant_id,
        campaign_id,
        is_observed,
        cast({{ settings.window_days }} as {{ type_double() }}) as conversion_window_days,
        cast({{ settings.confidence }} as {{ type_double() }}) as confidence_level,
        exposed_households,
        control_candidate_households,
        matched_exposed_households,
        matched_control_households,
        effective_control_households,
        exposed_conversions,
        control_conversions,
        exposed_conversion_rate,
        control_conversion_rate,
        absolute_lift,
        absolute_lift_ci_low,
        absolute_lift_ci_high,
        relative_lift,
        relative_lift_ci_low,
        relative_lift_ci_high,
        absolute_lift * cast(matched_exposed_households as {{ type_double() }})
            as incremental_conversions,
        absolute_lift_ci_low * cast(matched_exposed_households as {{ type_double() }})
            as incremental_conversions_ci_low,
        absolute_lift_ci_high * cast(matched_exposed_households as {{ type_double() }})
            as incremental_conversions_ci_high,
        incremental_revenue,
        case when result_status = 'estimated' then z_score end as z_score,
        p_value,
        minimum_detectable_lift,
        minimum_detectable_relative_lift,
        result_status
    from estimates

)

select * from final
