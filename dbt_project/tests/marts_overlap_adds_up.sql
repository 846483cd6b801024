-- rpt_audience_overlap adds up (the identities stated in its YAML), per tenant and dimension:
--   1. the combination rows (households reached by exactly that set of members) sum to the
--      distinct households reached in the dimension, counted afresh from int_ad_impressions;
--   2. sum(combination_size * households) over combination rows = sum of the diagonal (each
--      household counted once per member that reached it);
--   3. each diagonal cell is the member's reach in rpt_reach_frequency (scope campaign / show);
--   4. the matrix is symmetric and no overlap exceeds either member's reach;
--   and the campaign dimension's reach is the tenant's de-duplicated total reach.
-- Catches lost or doubled households in the decomposition and a matrix that disagrees with
-- the reach report.

with

overlap as (
    select *
    from {{ ref('rpt_audience_overlap') }}
    where {{ tenant_filter('tenant_id') }}
),

reach as (
    select *
    from {{ ref('rpt_reach_frequency') }}
    where {{ tenant_filter('tenant_id') }}
),

impressions as (
    select
        tenant_id,
        campaign_id,
        show_id,
        household_id
    from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}
),

source_reach as (
    select
        tenant_id,
        'campaign' as dimension,
        count(distinct household_id) as households
    from impressions
    where campaign_id is not null
    group by tenant_id
    union all
    select
        tenant_id,
        'show' as dimension,
        count(distinct household_id) as households
    from impressions
    where show_id is not null
    group by tenant_id
),

combination_totals as (
    select
        tenant_id,
        dimension,
        sum(households) as households,
        sum(combination_size * households) as member_households,
        max(dimension_reach) as dimension_reach
    from overlap
    where row_type = 'combination'
    group by tenant_id, dimension
),

diagonal as (
    select
        tenant_id,
        dimension,
        member_a as member_id,
        households
    from overlap
    where row_type = 'pair'
        and member_a = member_b
),

diagonal_totals as (
    select
        tenant_id,
        dimension,
        sum(households) as households
    from diagonal
    group by tenant_id, dimension
),

decomposition_differs as (
    select
        coalesce(source_reach.tenant_id, combination_totals.tenant_id) as tenant_id,
        coalesce(source_reach.dimension, combination_totals.dimension) as dimension,
        'combination households do not sum to the distinct households reached' as problem,
        coalesce(source_reach.households, 0) as expected,
        coalesce(combination_totals.households, 0) as actual
    from source_reach
    full outer join combination_totals
        on combination_totals.tenant_id = source_reach.tenant_id
        and combination_totals.dimension = source_reach.dimension
    where coalesce(source_reach.households, 0) <> coalesce(combination_totals.households, 0)
        or coalesce(source_reach.households, 0) <> coalesce(combination_totals.dimension_reach, 0)
),

membership_differs as (
    select
        combination_totals.tenant_id,
        combination_totals.dimension,
        'sum(combination_size * households) differs from the sum of the diagonal' as problem,
        coalesce(diagonal_totals.households, 0) as expected,
        combination_totals.member_households as actual
    from combination_totals
    left join diagonal_totals
        on diagonal_totals.tenant_id = combination_totals.tenant_id
        and diagonal_totals.dimension = combination_totals.dimension
    where coalesce(diagonal_totals.households, 0) <> combination_totals.member_households
),

member_reach as (
    select
        tenant_id,
        'campaign' as dimension,
        campaign_id as member_id,
        reach
    from reach
    where scope = 'campaign' and campaign_id is not null
    union all
    select
        tenant_id,
        'show' as dimension,
        show_id as member_id,
        reach
    from reach
    where scope = 'show' and show_id is not null
),

diagonal_differs as (
    select
        coalesce(member_reach.tenant_id, diagonal.tenant_id) as tenant_id,
        coalesce(member_reach.dimension, diagonal.dimension) as dimension,
        'diagonal of ' || coalesce(member_reach.member_id, diagonal.member_id)
            || ' differs from its reach in rpt_reach_frequency' as problem,
        coalesce(member_reach.reach, 0) as expected,
        coalesce(diagonal.households, 0) as actual
    from member_reach
    full outer join diagonal
        on diagonal.tenant_id = member_reach.tenant_id
        and diagonal.dimension = member_reach.dimension
        and diagonal.member_id = member_reach.member_id
    where coalesce(member_reach.reach, 0) <> coalesce(diagonal.households, 0)
),

pairs_not_symmetric as (
    select
        pair.tenant_id,
        pair.dimension,
        'overlap of ' || pair.member_a || ' and ' || pair.member_b
            || ' is not symmetric or exceeds a reach' as problem,
        coalesce(mirror.households, 0) as expected,
        pair.households as actual
    from overlap as pair
    left join overlap as mirror
        on mirror.tenant_id = pair.tenant_id
        and mirror.dimension = pair.dimension
        and mirror.row_type = 'pair'
        and mirror.member_a = pair.member_b
        and mirror.member_b = pair.member_a
    where pair.row_type = 'pair'
        and (
            mirror.households is null
            or mirror.households <> pair.households
            or pair.households > pair.member_a_reach
            or pair.households > pair.member_b_reach
        )
),

total_reach_differs as (
    select
        reach.tenant_id,
        'campaign' as dimension,
        'the tenant total reach differs from the campaign dimension reach' as problem,
        coalesce(source_reach.households, 0) as expected,
        reach.reach as actual
    from reach
    left join source_reach
        on source_reach.tenant_id = reach.tenant_id
        and source_reach.dimension = 'campaign'
    where reach.scope = 'tenant'
        and coalesce(source_reach.households, 0) <> reach.reach
)

select * from decomposition_differs
union all
select * from membership_differs
union all
select * from diagonal_differs
union all
select * from pairs_not_symmetric
union all
select * from total_reach_differs
