{#- One row per CRM lead (contact, lead, form fill, deal, opportunity) with its conversion: a
    contact, lead or form fill converts when created (revenue 0), a deal or opportunity when won
    (at its close date, revenue its value); an open or lost deal has no conversion fields. The
    household is the conversion's (a deal without an address takes its contact's network), or
    the lead's own network when it did not convert. The signal that claims the conversion in the
    combined view (int_signal_conversions.is_primary) is carried along. Pseudonymous only: the
    e-mail address is email_key (the tenant's HMAC), the address the household; URLs and free
    text (landing URL, survey answer) stay out of the marts. -#}

with

leads as (

    select * from {{ ref('stg_files__leads') }}
    where {{ tenant_filter('tenant_id') }}

),

conversions as (

    select * from {{ ref('int_conversions') }}
    where {{ tenant_filter('tenant_id') }}
        and conversion_type in ('lead', 'deal')

),

households as (

    select
        tenant_id,
        household_id,
        ip_class
    from {{ ref('int_households') }}
    where {{ tenant_filter('tenant_id') }}

),

primary_signals as (

    select
        tenant_id,
        conversion_id,
        campaign_id,
        signal
    from {{ ref('int_signal_conversions') }}
    where {{ tenant_filter('tenant_id') }}
        and is_primary

),

leads_with_conversion as (

    select
        leads.*,
        conversions.conversion_id,
        conversions.conversion_type,
        conversions.conversion_ts,
        conversions.revenue,
        coalesce(
            conversions.household_id, {{ household_id_for_network('leads.network_key') }}
        ) as household_id
    from leads
    left join conversions
        on conversions.tenant_id = leads.tenant_id
        and conversions.source_record_id = leads.lead_id

),

final as (

    select
        leads_with_conversion.tenant_id,
        leads_with_conversion.lead_id,
        leads_with_conversion.lead_type,
        leads_with_conversion.lead_source,
        leads_with_conversion.created_at,
        leads_with_conversion.updated_at,
        leads_with_conversion.closed_at,
        leads_with_conversion.status,
        leads_with_conversion.is_won,
        leads_with_conversion.value,
        leads_with_conversion.currency,
        leads_with_conversion.contact_id,
        leads_with_conversion.email_key,
        leads_with_conversion.household_id,
        households.ip_class,
        coalesce(households.ip_class = 'household', false) as is_observed,
        leads_with_conversion.conversion_id is not null as is_conversion,
        leads_with_conversion.conversion_id,
        leads_with_conversion.conversion_type,
        leads_with_conversion.conversion_ts,
        leads_with_conversion.revenue,
        lower(trim(leads_with_conversion.utm_source)) as utm_source,
        lower(trim(leads_with_conversion.utm_medium)) as utm_medium,
        lower(trim(leads_with_conversion.utm_campaign)) as utm_campaign,
        leads_with_conversion.survey_answer is not null as has_survey_answer,
        primary_signals.campaign_id as primary_campaign_id,
        primary_signals.signal as primary_signal
    from leads_with_conversion
    left join households
        on households.tenant_id = leads_with_conversion.tenant_id
        and households.household_id = leads_with_conversion.household_id
    left join primary_signals
        on primary_signals.tenant_id = leads_with_conversion.tenant_id
        and primary_signals.conversion_id = leads_with_conversion.conversion_id

)

select * from final
