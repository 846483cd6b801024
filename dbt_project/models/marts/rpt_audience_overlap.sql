{#- Audience overlap between campaigns and between shows, at household level
    (docs/user/marts.md, docs/user/attribution.md "Reach, overlap and lag"). Two kinds of row
    per tenant and dimension (campaign or show):
      pair         the overlap matrix: households reached by both member_a and member_b, for
                   every ordered pair with a household in common; the diagonal (member_a =
                   member_b) is the member's reach. Symmetric: (a, b) = (b, a).
      combination  the exclusive decomposition: households reached by exactly the members in
                   `combination` (sorted ids joined by ' | ') and by no other member of the
                   dimension; a one-member combination is "only this one".
    Identities (tests/marts_overlap_adds_up.sql): the combination rows' households sum to
    dimension_reach, the distinct households reached in the dimension; the sum of
    combination_size * households equals the sum of the diagonal; each diagonal equals the
    member's reach in rpt_reach_frequency. Impressions without a show (episode missing from the
    catalogue) take no part in the show dimension. -#}

with

impressions as (

    select
        tenant_id,
        campaign_id,
        show_id,
        household_id
    from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}

),

members as (

    -- One row per household and member it was reached by.
    select distinct
        tenant_id,
        'campaign' as dimension,
        campaign_id as member_id,
        household_id
    from impressions
    where campaign_id is not null

    union all

    select distinct
        tenant_id,
        'show' as dimension,
        show_id as member_id,
        household_id
    from impressions
    where show_id is not null

),

member_reach as (

    select
        tenant_id,
        dimension,
        member_id,
        count(*) as reach
    from members
    group by tenant_id, dimension, member_id

),

dimension_reach as (

    select
        tenant_id,
        dimension,
        count(distinct household_id) as reach
    from members
    group by tenant_id, dimension

),

pairs as (

    select
        member_a.tenant_id,
        member_a.dimension,
        member_a.member_id as member_a,
        member_b.member_id as member_b,
        count(*) as households
    from members as member_a
    inner join members as member_b
        on member_a.tenant_id = member_b.tenant_id
        and member_a.dimension = member_b.dimension
        and member_a.household_id = member_b.household_id
    group by member_a.tenant_id, member_a.dimension, member_a.member_id, member_b.member_id

),

household_combinations as (

    -- The exact set of members each household was reached by, ids in byte order on every
    -- engine so the same set is spelled the same way everywhere.
    select
        tenant_id,
        dimension,
        household_id,
        count(*) as combination_size,
        {{ dbt.listagg('member_id', "' | '", 'order by ' ~ attribution_id_order('member_id')) }}
            as combination
    from members
    group by tenant_id, dimension, household_id

),

combinations as (

    select
        tenant_id,
        dimension,
        combination,
        combination_size,
        count(*) as households
    from household_combinations
    group by tenant_id, dimension, combination, combination_size

),

final as (

    select
        pairs.tenant_id,
        pairs.dimension,
        'pair' as row_type,
        pairs.member_a,
        pairs.member_b,
        cast(null as {{ dbt.type_string() }}) as combination,
        cast(case when pairs.member_a = pairs.member_b then 1 else 2 end as {{ dbt.type_bigint() }})
            as combination_size,
        cast(pairs.households as {{ dbt.type_bigint() }}) as households,
        cast(reach_a.reach as {{ dbt.type_bigint() }}) as member_a_reach,
        cast(reach_b.reach as {{ dbt.type_bigint() }}) as member_b_reach,
        cast(dimension_reach.reach as {{ dbt.type_bigint() }}) as dimension_reach,
        cast(pairs.households as {{ type_double() }}) / cast(reach_a.reach as {{ type_double() }})
            as share_of_member_a,
        cast(pairs.households as {{ type_double() }})
            / cast(dimension_reach.reach as {{ type_double() }}) as share_of_dimension_reach

    from pairs
    inner join member_reach as reach_a
        on reach_a.tenant_id = pairs.tenant_id
        and reach_a.dimension = pairs.dimension
        and reach_a.member_id = pairs.member_a
    inner join member_reach as reach_b
        on reach_b.tenant_id = pairs.tenant_id
        and reach_b.dimension = pairs.dimension
        and reach_b.member_id = pairs.member_b
    inner join dimension_reach
        on dimension_reach.tenant_id = pairs.tenant_id
        and dimension_reach.dimension = pairs.dimension

    union all

    select
        combinations.tenant_id,
        combinations.dimension,
        'combination' as row_type,
        cast(null as {{ dbt.type_string() }}) as member_a,
        cast(null as {{ dbt.type_string() }}) as member_b,
        combinations.combination,
        cast(combinations.combination_size as {{ dbt.type_bigint() }}) as combination_size,
        cast(combinations.households as {{ dbt.type_bigint() }}) as households,
        cast(null as {{ dbt.type_bigint() }}) as member_a_reach,
        cast(null as {{ dbt.type_bigint() }}) as member_b_reach,
        cast(dimension_reach.reach as {{ dbt.type_bigint() }}) as dimension_reach,
        cast(null as {{ type_double() }}) as share_of_member_a,
        cast(combinations.households as {{ type_double() }})
            / cast(dimension_reach.reach as {{ type_double() }}) as share_of_dimension_reach

    from combinations
    inner join dimension_reach
        on dimension_reach.tenant_id = combinations.tenant_id
        and dimension_reach.dimension = combinations.dimension

)

select * from final
