{#- One row per CRM / marketing-platform lead (contact, lead, form fill, deal, opportunity), its
    latest extraction: a deal is landed again when it moves stage, and the latest landing says
    whether it was won. Personal data ends here: the e-mail address becomes email_key, the HMAC
    of lower(trim(email)) with the tenant's key (macro `pseudonymise`, the one that keys
    addresses), so the same person has the same key in every source of one tenant; the browser
    address becomes network_key and ip_class (macros/address_pseudonymisation.sql). Neither the
    e-mail address nor the IP address leaves this model. The browser's user agent and referrer,
    which the raw table keeps, are not read: no signal uses them. -#}

with

source as (

    select * from {{ source('files', 'leads') }}
    where {{ tenant_filter('_tenant_id') }}

),

ip_class_ranges as (

    select * from {{ ref('ip_class_ranges') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(lead_id as {{ dbt.type_string() }}) as lead_id,
        lower(trim(cast(lead_type as {{ dbt.type_string() }}))) as lead_type,
        lower(trim(cast(_source as {{ dbt.type_string() }}))) as lead_source,
        cast(ts as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
        -- blank is no address: it must not become the key of an empty string
        nullif(lower(trim(cast(email as {{ dbt.type_string() }}))), '') as normalised_email,
        cast(ip as {{ dbt.type_string() }}) as ip,
        cast(value as {{ type_double() }}) as value,
        upper(trim(cast(currency as {{ dbt.type_string() }}))) as currency,
        lower(trim(cast(status as {{ dbt.type_string() }}))) as status,
        cast(is_won as {{ dbt.type_boolean() }}) as is_won,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(landing_url as {{ dbt.type_string() }}) as landing_url,
        cast(utm_source as {{ dbt.type_string() }}) as utm_source,
        cast(utm_medium as {{ dbt.type_string() }}) as utm_medium,
        cast(utm_campaign as {{ dbt.type_string() }}) as utm_campaign,
        cast(survey_answer as {{ dbt.type_string() }}) as survey_answer,
        _extracted_at,
        _batch_id,
        _source_row

    from source

),

latest as (

    select
        *,
        {{ landing_version_rank('tenant_id, lead_id') }} as version_rank

    from renamed

),

{{ address_pseudonymisation_ctes('renamed', 'ip_class_ranges', ip_column='ip') }}

distinct_emails as (

    -- Hashed once per distinct address, like the IP addresses.
    select distinct
        tenant_id,
        normalised_email

    from latest
    where version_rank = 1
        and normalised_email is not null

),

pseudonymised_emails as (

    select
        tenant_id,
        normalised_email,
        {{ pseudonymise('normalised_email') }} as email_key

    from distinct_emails

),

final as (

    select
        latest.tenant_id,
        latest.lead_id,
        latest.lead_type,
        latest.lead_source,
        latest.created_at,
        latest.updated_at,
        latest.closed_at,
        pseudonymised_emails.email_key,
        pseudonymised_addresses.ip_version,
        pseudonymised_addresses.network_key,
        pseudonymised_addresses.ip_class,
        latest.value,
        latest.currency,
        latest.status,
        latest.is_won,
        latest.contact_id,
        latest.landing_url,
        latest.utm_source,
        latest.utm_medium,
        latest.utm_campaign,
        latest.survey_answer

    from latest
    left join pseudonymised_addresses
        on latest.tenant_id = pseudonymised_addresses.tenant_id
        and latest.ip = pseudonymised_addresses.ip
    left join pseudonymised_emails
        on latest.tenant_id = pseudonymised_emails.tenant_id
        and latest.normalised_email = pseudonymised_emails.normalised_email
    where latest.version_rank = 1

)

select * from final
