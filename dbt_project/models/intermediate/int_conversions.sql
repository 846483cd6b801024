{#- Every conversion, one row each, one CTE per kind:
    * order: an ecommerce order, at its time, with its revenue;
    * lead: a CRM contact, lead or form fill (stg_files__leads), when it was created, with
      revenue 0 (a lead is worth something, but no amount was paid: 0 keeps every sum a number);
    * deal: a deal or opportunity that is won, at its closed_at (the CRM's close date: a later
      edit of the deal moves its updated_at, never its conversion), else its updated_at, else its
      creation, with its value as revenue. An open or lost deal is no conversion.
    The household is the converting record's network (null when it carried no usable address:
    such a conversion still counts, it just cannot be matched to listening); a deal, which a CRM
    stores without a browser, takes its contact's network when it has none of its own. Its
    ip_class is the household's final class (int_households), the one its touches carry.
    source_record_type names the kind of record source_record_id is ('order' or 'lead': a deal
    is a CRM record like a lead), so a visit or answer tied to a record finds its conversion
    without repeating which conversion types each record kind makes. survey_answer is the
    converting record's "how did you hear about us?" answer (an order's post-purchase survey, a
    lead's or deal's form field), read by int_survey_mentions. Site goals would be one more CTE
    with these columns. -#}

with

orders as (

    select * from {{ ref('stg_files__orders') }}
    where {{ tenant_filter('tenant_id') }}

),

leads as (

    select * from {{ ref('stg_files__leads') }}
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

orders_with_household as (

    select
        *,
        {{ hashed_id(['tenant_id', "'order'", 'order_id']) }} as conversion_id,
        {{ household_id_for_network('network_key') }} as household_id
    from orders

),

order_conversions as (

    select
        orders_with_household.tenant_id,
        orders_with_household.conversion_id,
        'order' as conversion_type,
        'order' as source_record_type,
        orders_with_household.household_id,
        households.ip_class,
        orders_with_household.ordered_at as conversion_ts,
        orders_with_household.revenue,
        orders_with_household.currency,
        orders_with_household.order_id as source_record_id,
        orders_with_household.survey_answer

    from orders_with_household
    left join households
        on households.tenant_id = orders_with_household.tenant_id
        and households.household_id = orders_with_household.household_id

),

typed_leads as (

    -- Deals and opportunities are told apart here once: they convert when won, at their close,
    -- with their value, and take their contact's network.
    select
        *,
        lead_type in ('deal', 'opportunity') as is_deal
    from leads

),

lead_networks as (

    -- A deal without an address of its own takes its contact's network (contact_id names the
    -- contact's lead_id in the same CRM).
    select
        leads.tenant_id,
        leads.lead_id,
        leads.lead_type,
        leads.is_deal,
        leads.created_at,
        leads.updated_at,
        leads.closed_at,
        leads.value,
        leads.currency,
        leads.is_won,
        leads.survey_answer,
        coalesce(leads.network_key, contacts.network_key) as network_key
    from typed_leads as leads
    left join typed_leads as contacts
        on contacts.tenant_id = leads.tenant_id
        and contacts.lead_id = leads.contact_id
        and leads.is_deal

),

lead_rows as (

    select
        tenant_id,
        lead_id,
        case
            when lead_type in ('contact', 'lead', 'form_fill') then 'lead'
            when is_deal and is_won then 'deal'
        end as conversion_type,
        case
            when is_deal then coalesce(closed_at, updated_at, created_at)
            else created_at
        end as conversion_ts,
        case
            when is_deal then value
            else cast(0 as {{ type_double() }})
        end as revenue,
        currency,
        survey_answer,
        network_key
    from lead_networks

),

lead_conversions as (

    select
        lead_rows.tenant_id,
        {{ hashed_id(['lead_rows.tenant_id', 'lead_rows.conversion_type', 'lead_rows.lead_id']) }}
            as conversion_id,
        lead_rows.conversion_type,
        'lead' as source_record_type,
        {{ household_id_for_network('lead_rows.network_key') }} as household_id,
        households.ip_class,
        lead_rows.conversion_ts,
        lead_rows.revenue,
        lead_rows.currency,
        lead_rows.lead_id as source_record_id,
        lead_rows.survey_answer

    from lead_rows
    left join households
        on households.tenant_id = lead_rows.tenant_id
        and households.household_id = {{ household_id_for_network('lead_rows.network_key') }}
    where lead_rows.conversion_type is not null

),

conversions as (

    select * from order_conversions
    union all
    select * from lead_conversions

),

final as (

    select
        tenant_id,
        conversion_id,
        cast(conversion_type as {{ dbt.type_string() }}) as conversion_type,
        cast(source_record_type as {{ dbt.type_string() }}) as source_record_type,
        household_id,
        ip_class,
        conversion_ts,
        revenue,
        currency,
        source_record_id,
        survey_answer

    from conversions

)

select * from final
