{#- Shows for BI users: one row per show with its current name (that of its latest episode, as a
    show may be renamed), its episodes and the campaigns placed on it. -#}

with

episodes as (
    select
        tenant_id,
        episode_id,
        show_id,
        show_name,
        published_at,
        duration_s
    from {{ ref('stg_files__episodes') }}
    where {{ tenant_filter('tenant_id') }}
        and show_id is not null
),

placements as (
    select
        tenant_id,
        campaign_id,
        episode_id
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}
),

latest_name as (
    select
        tenant_id,
        show_id,
        show_name,
        row_number() over (
            partition by tenant_id, show_id
            order by published_at desc nulls last, {{ attribution_id_order('episode_id') }} desc
        ) as recency
    from episodes
),

episode_totals as (
    select
        tenant_id,
        show_id,
        count(*) as episodes,
        min(published_at) as first_published_at,
        max(published_at) as last_published_at,
        sum(duration_s) as total_duration_s
    from episodes
    group by tenant_id, show_id
),

campaign_totals as (
    select
        episodes.tenant_id,
        episodes.show_id,
        count(distinct placements.campaign_id) as campaigns,
        count(*) as placements
    from placements
    inner join episodes
        on episodes.tenant_id = placements.tenant_id
        and episodes.episode_id = placements.episode_id
    group by episodes.tenant_id, episodes.show_id
)

select
    episode_totals.tenant_id,
    episode_totals.show_id,
    latest_name.show_name,
    episode_totals.episodes,
    episode_totals.first_published_at,
    episode_totals.last_published_at,
    episode_totals.total_duration_s,
    coalesce(campaign_totals.campaigns, 0) as campaigns,
    coalesce(campaign_totals.placements, 0) as placements
from episode_totals
inner join latest_name
    on latest_name.tenant_id = episode_totals.tenant_id
    and latest_name.show_id = episode_totals.show_id
    and latest_name.recency = 1
left join campaign_totals
    on campaign_totals.tenant_id = episode_totals.tenant_id
    and campaign_totals.show_id = episode_totals.show_id
