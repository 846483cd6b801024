{#- Weekly cohorts since exposure: for every campaign, is_observed and week k = 0, 1, ... of the
    conversion window (var incrementality_conversion_window_days), the cumulative conversion
    rates of the matched exposed households and of the re-weighted controls (the weights of
    int_incrementality_households) counting conversions up to the end of week k after the
    household's (pseudo) exposure, and the lift between them. The last week ends at the window,
    so its rates are rpt_incrementality's. Rates only: the interval and the sample-size verdict
    are rpt_incrementality's. -#}
{%- set settings = incrementality_settings() %}
{%- set week_seconds = 7 * 86400 %}
{%- set weeks = ((settings.window_seconds + week_seconds - 1) // week_seconds) | int %}

with

study_households as (

    select
        tenant_id,
        campaign_id,
        study_group,
        is_observed,
        match_weight,
        first_conversion_seconds
    from {{ ref('int_incrementality_households') }}
    where {{ tenant_filter('tenant_id') }}
        and is_matched

),

weeks as (
    {%- for week in range(weeks) %}
    select
        {{ week }} as weeks_since_exposure,
        {{ [(week + 1) * week_seconds, settings.window_seconds] | min }} as week_end_seconds
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

cumulative as (

    select
        study_households.tenant_id,
        study_households.campaign_id,
        study_households.is_observed,
        weeks.weeks_since_exposure,
        weeks.week_end_seconds,
        sum(case when study_group = 'exposed' then 1 else 0 end) as exposed_households,
        sum(case when study_group = 'control' then 1 else 0 end) as control_households,
        sum(
            case
                when study_group = 'exposed'
                    and first_conversion_seconds <= weeks.week_end_seconds then 1
                else 0
            end
        ) as exposed_converted,
        sum(case when study_group = 'control' then match_weight else 0 end) as control_weight,
        sum(
            case
                when study_group = 'control'
                    and first_conversion_seconds <= weeks.week_end_seconds then match_weight
                else 0
            end
        ) as control_weighted_converted
    from study_households
    cross join weeks
    group by
        study_households.tenant_id,
        study_households.campaign_id,
        study_households.is_observed,
        weeks.weeks_since_exposure,
        weeks.week_end_seconds

),

rates as (

    select
        tenant_id,
        campaign_id,
        is_observed,
        weeks_since_exposure,
        cast(week_end_seconds as {{ type_double() }}) / 86400.0 as days_since_exposure,
        cast(exposed_households as {{ dbt.type_bigint() }}) as matched_exposed_households,
        cast(control_households as {{ dbt.type_bigint() }}) as matched_control_households,
        cast(exposed_converted as {{ dbt.type_bigint() }}) as exposed_conversions,
        case when exposed_households > 0
            then cast(exposed_converted as {{ type_double() }})
                / cast(exposed_households as {{ type_double() }})
        end as exposed_conversion_rate,
        case when control_weight > 0
            then cast(control_weighted_converted as {{ type_double() }})
                / cast(control_weight as {{ type_double() }})
        end as control_conversion_rate
    from cumulative

),

final as (

    select
        rates.*,
        exposed_conversion_rate - control_conversion_rate as absolute_lift,
        case when control_conversion_rate > 0
            then exposed_conversion_rate / control_conversion_rate - 1.0
        end as relative_lift
    from rates

)

select * from final
