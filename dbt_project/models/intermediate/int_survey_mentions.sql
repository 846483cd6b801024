{#- Conversions whose survey answer ("how did you hear about us?") names a show or an advertiser,
    one row per (conversion, campaign) the mention evidences. The answers are the survey_answer
    of int_conversions: orders' post-purchase answers and the form answers of CRM leads and won
    deals, each dated by its conversion (answered_at = conversion_ts: the order's time, the
    lead's creation, the deal's win). Open and lost deals are no conversion, so their answers
    are not read.

    Matching tolerates spelling. Answers and names are normalised alike (lower case, letters and
    digits only, a leading "the" dropped: macros/signals.sql, normalise_signal_name) and compared
    by the Dice similarity of their sets of character bigrams, 2 * shared / (answer's + name's),
    in portable SQL (no engine extension). An answer that contains a name of at least four
    characters whole ("heard it on the morning cup podcast") scores 1. An answer matches the
    names with the highest score, when that score reaches var survey_match_min_similarity (0.75:
    one typo in a ten-letter name scores about 0.78, while two names sharing a word, "morning
    cup" and "evening cup", score 0.67; the best-score rule keeps an exact answer off the other).

    A show mention evidences the campaigns with a placement on one of the show's episodes, an
    advertiser mention the advertiser's campaigns; in both cases only campaigns whose flight had
    started by the conversion and ended at most var lookback_days before it (the attribution
    window, counted from the end of the flight's last day). -#}
{%- set min_similarity = var('survey_match_min_similarity') | float -%}
{%- if min_similarity <= 0 or min_similarity > 1 -%}
    {{ exceptions.raise_compiler_error(
        "var 'survey_match_min_similarity' must be in (0, 1], got: " ~ min_similarity) }}
{%- endif -%}
{%- set settings = attribution_settings() %}

with

survey_answers as (

    select
        tenant_id,
        conversion_id,
        conversion_type,
        source_record_id,
        survey_answer,
        conversion_ts as answered_at,
        household_id,
        ip_class,
        revenue
    from {{ ref('int_conversions') }}
    where {{ tenant_filter('tenant_id') }}
        and survey_answer is not null

),

episodes as (

    select
        tenant_id,
        episode_id,
        show_id,
        show_name
    from {{ ref('stg_files__episodes') }}
    where {{ tenant_filter('tenant_id') }}

),

placements as (

    select
        tenant_id,
        campaign_id,
        episode_id
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}

),

campaigns as (

    select
        tenant_id,
        campaign_id,
        advertiser,
        start_date,
        end_date
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}

),

numbers as (

    {{ signal_numbers() }}

),

answers as (

    -- Each distinct answer is compared once, whatever the number of conversions giving it.
    select distinct
        tenant_id,
        {{ normalise_signal_name('survey_answer') }} as answer_key
    from survey_answers
    where {{ normalise_signal_name('survey_answer') }} is not null

),

show_names as (

    select distinct
        tenant_id,
        show_id,
        'show' as mention_type,
        show_name as mentioned_name,
        {{ normalise_signal_name('show_name') }} as name_key
    from episodes
    where {{ normalise_signal_name('show_name') }} is not null

),

advertiser_names as (

    select distinct
        tenant_id,
        cast(null as {{ dbt.type_string() }}) as show_id,
        'advertiser' as mention_type,
        advertiser as mentioned_name,
        {{ normalise_signal_name('advertiser') }} as name_key
    from campaigns
    where {{ normalise_signal_name('advertiser') }} is not null

),

names as (

    select * from show_names
    union all
    select * from advertiser_names

),

name_keys as (

    select distinct
        tenant_id,
        name_key
    from names

),

answer_bigrams as (

    select distinct
        answers.tenant_id,
        answers.answer_key,
        substr(answers.answer_key, numbers.n, 2) as bigram
    from answers
    inner join numbers
        on numbers.n < length(answers.answer_key)

),

name_bigrams as (

    select distinct
        name_keys.tenant_id,
        name_keys.name_key,
        substr(name_keys.name_key, numbers.n, 2) as bigram
    from name_keys
    inner join numbers
        on numbers.n < length(name_keys.name_key)

),

answer_sizes as (

    select
        tenant_id,
        answer_key,
        count(*) as bigrams
    from answer_bigrams
    group by tenant_id, answer_key

),

name_sizes as (

    select
        tenant_id,
        name_key,
        count(*) as bigrams
    from name_bigrams
    group by tenant_id, name_key

),

shared_bigrams as (

    select
        answer_bigrams.tenant_id,
        answer_bigrams.answer_key,
        name_bigrams.name_key,
        count(*) as shared
    from answer_bigrams
    inner join name_bigrams
        on name_bigrams.tenant_id = answer_bigrams.tenant_id
        and name_bigrams.bigram = answer_bigrams.bigram
    group by answer_bigrams.tenant_id, answer_bigrams.answer_key, name_bigrams.name_key

),

scored as (

    select
        shared_bigrams.tenant_id,
        shared_bigrams.answer_key,
        shared_bigrams.name_key,
        case
            when length(shared_bigrams.name_key) >= 4
                and {{ dbt.position('shared_bigrams.name_key', 'shared_bigrams.answer_key') }} > 0
                then 1.0
            else 2.0 * cast(shared_bigrams.shared as {{ type_double() }})
                / cast(answer_sizes.bigrams + name_sizes.bigrams as {{ type_double() }})
        end as similarity
    from shared_bigrams
    inner join answer_sizes
        on answer_sizes.tenant_id = shared_bigrams.tenant_id
        and answer_sizes.answer_key = shared_bigrams.answer_key
    inner join name_sizes
        on name_sizes.tenant_id = shared_bigrams.tenant_id
        and name_sizes.name_key = shared_bigrams.name_key

),

best_scores as (

    select
        tenant_id,
        answer_key,
        max(similarity) as similarity
    from scored
    group by tenant_id, answer_key

),

answer_matches as (

    select
        scored.tenant_id,
        scored.answer_key,
        scored.name_key,
        scored.similarity
    from scored
    inner join best_scores
        on best_scores.tenant_id = scored.tenant_id
        and best_scores.answer_key = scored.answer_key
        and best_scores.similarity = scored.similarity
    where scored.similarity >= {{ min_similarity }}

),

show_campaigns as (

    select distinct
        placements.tenant_id,
        episodes.show_id,
        placements.campaign_id
    from placements
    inner join episodes
        on episodes.tenant_id = placements.tenant_id
        and episodes.episode_id = placements.episode_id

),

name_campaigns as (

    select
        names.tenant_id,
        names.name_key,
        names.mention_type,
        names.mentioned_name,
        show_campaigns.campaign_id
    from names
    inner join show_campaigns
        on show_campaigns.tenant_id = names.tenant_id
        and show_campaigns.show_id = names.show_id
    where names.mention_type = 'show'

    union all

    select
        names.tenant_id,
        names.name_key,
        names.mention_type,
        names.mentioned_name,
        campaigns.campaign_id
    from names
    inner join campaigns
        on campaigns.tenant_id = names.tenant_id
        and campaigns.advertiser = names.mentioned_name
    where names.mention_type = 'advertiser'

),

conversion_mentions as (

    select
        survey_answers.tenant_id,
        survey_answers.conversion_id,
        survey_answers.conversion_type,
        survey_answers.source_record_id,
        survey_answers.answered_at,
        survey_answers.household_id,
        survey_answers.ip_class,
        survey_answers.revenue,
        name_campaigns.campaign_id,
        name_campaigns.mention_type,
        name_campaigns.mentioned_name,
        answer_matches.similarity
    from survey_answers
    inner join answer_matches
        on answer_matches.tenant_id = survey_answers.tenant_id
        and answer_matches.answer_key = {{ normalise_signal_name('survey_answers.survey_answer') }}
    inner join name_campaigns
        on name_campaigns.tenant_id = answer_matches.tenant_id
        and name_campaigns.name_key = answer_matches.name_key
    inner join campaigns
        on campaigns.tenant_id = name_campaigns.tenant_id
        and campaigns.campaign_id = name_campaigns.campaign_id
    where (
            campaigns.start_date is null
            or survey_answers.answered_at >= cast(campaigns.start_date as {{ dbt.type_timestamp() }})
        )
        and (
            campaigns.end_date is null
            or survey_answers.answered_at <= {{ dbt.dateadd(
                'second', 86400 + settings.lookback_seconds,
                'cast(campaigns.end_date as ' ~ dbt.type_timestamp() ~ ')') }}
        )

),

strongest_mention as (

    -- One row per (conversion, campaign): the strongest mention, a show before an advertiser,
    -- then the name (byte-wise), so the choice is the same on every engine.
    select
        conversion_mentions.*,
        row_number() over (
            partition by tenant_id, conversion_id, campaign_id
            order by
                similarity desc,
                case when mention_type = 'show' then 0 else 1 end,
                {{ attribution_id_order('mentioned_name') }}
        ) as mention_rank
    from conversion_mentions

),

final as (

    select
        strongest_mention.tenant_id,
        -- An order's mention keeps the id it had before leads answered surveys; a lead's or
        -- deal's adds its conversion type, so a lead_id equal to some order_id stays apart.
        case
            when strongest_mention.conversion_type = 'order' then {{ hashed_id([
                'strongest_mention.tenant_id', 'strongest_mention.source_record_id',
                'strongest_mention.campaign_id']) }}
            else {{ hashed_id([
                'strongest_mention.tenant_id', 'strongest_mention.conversion_type',
                'strongest_mention.source_record_id', 'strongest_mention.campaign_id']) }}
        end as mention_id,
        strongest_mention.conversion_id,
        case
            when strongest_mention.conversion_type = 'order' then strongest_mention.source_record_id
        end as order_id,
        strongest_mention.campaign_id,
        cast(strongest_mention.mention_type as {{ dbt.type_string() }}) as mention_type,
        strongest_mention.mentioned_name,
        cast(strongest_mention.similarity as {{ type_double() }}) as similarity,
        strongest_mention.household_id,
        strongest_mention.ip_class,
        strongest_mention.answered_at as mentioned_at,
        strongest_mention.revenue,
        cast(strongest_mention.conversion_type as {{ dbt.type_string() }}) as conversion_type,
        strongest_mention.source_record_id
    from strongest_mention
    where strongest_mention.mention_rank = 1

)

select * from final
