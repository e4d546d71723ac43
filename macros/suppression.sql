{#- Suppression: the identifiers of forgotten people (`idr forget`), kept only as salted hashes in the
    landing schema's suppressed_identifiers (with the warehouse's salt in suppression_salt, one row).
    An event that carries one of them is rejected as `suppressed` and keeps none of its content. The
    driver creates both tables on the first forget; until then nothing here adds any work. -#}

{#- One of the suppression tables of the landing schema, as a relation. -#}
{% macro idr_suppression_relation(identifier) -%}
    {{ return(api.Relation.create(
        database=target.database, schema=var('idr_landing_schema'), identifier=identifier
    )) }}
{%- endmacro %}

{#- Whether any identifier is suppressed: read at run time (false while the project is only parsed,
    and on engines whose driver cannot forget: see docs/privacy.md). -#}
{% macro idr_has_suppressed_identifiers() -%}
    {{ return(adapter.dispatch('idr_has_suppressed_identifiers', 'identity_resolution')()) }}
{%- endmacro %}

{% macro default__idr_has_suppressed_identifiers() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro duckdb__idr_has_suppressed_identifiers() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set suppressed = idr_suppression_relation('suppressed_identifiers') -%}
    {%- if adapter.get_relation(suppressed.database, suppressed.schema, suppressed.identifier) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query('select count(*) from (select 1 from ' ~ suppressed ~ ' limit 1) as one_row') -%}
    {{ return(found.columns[0].values()[0] | int > 0) }}
{%- endmacro %}

{#- The salted hash an identifier is suppressed by: sha-256 of salt, type and normalised value. The
    driver computes the hashes it stores with the same expression (idr.forgetting.IDENTIFIER_HASH). -#}
{% macro idr_identifier_hash(salt_expr, type_expr, value_expr) -%}
    {{ return(adapter.dispatch('idr_identifier_hash', 'identity_resolution')(salt_expr, type_expr, value_expr)) }}
{%- endmacro %}

{% macro default__idr_identifier_hash(salt_expr, type_expr, value_expr) -%}
    sha256({{ salt_expr }} || ':' || {{ type_expr }} || ':' || {{ value_expr }})
{%- endmacro %}

{% macro spark__idr_identifier_hash(salt_expr, type_expr, value_expr) -%}
    sha2({{ salt_expr }} || ':' || {{ type_expr }} || ':' || {{ value_expr }}, 256)
{%- endmacro %}

{#- The event_key of every row of `relation` (columns as int_identifiers_extracted reads them, with
    `event_key` and `occurred_at`) that carries a suppressed identifier, read from every configured
    identifier source and from context.externalIds as int_identifiers_extracted reads them; blocked
    placeholder values suppress nothing. -#}
{% macro idr_suppressed_event_keys(relation) -%}
    {%- set selects = idr_identifier_source_selects(relation) -%}
    {%- if var('idr_use_external_ids') -%}
        {%- do selects.append('select * from (' ~ idr_external_identifier_rows(relation) ~ ') as external_identifiers') -%}
    {%- endif %}
    with carried as (
        {%- for source_select in selects %}
        {{ source_select }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ),

    suppressed as (
        select suppressed_identifiers.identifier_type, suppressed_identifiers.identifier_hash, salt.salt
        from {{ idr_suppression_relation('suppressed_identifiers') }} as suppressed_identifiers
        cross join {{ idr_suppression_relation('suppression_salt') }} as salt
    )

    select distinct carried.event_key
    from carried
    inner join suppressed
        on
            carried.identifier_type = suppressed.identifier_type
            and {{ idr_identifier_hash('suppressed.salt', 'carried.identifier_type', 'carried.identifier_value') }}
            = suppressed.identifier_hash
    -- a placeholder value names nobody: it suppresses nothing
    where not {{ idr_is_blocked_value('carried.identifier_value') }}
{%- endmacro %}

{#- post-hook of int_events_validated, after the copies of a messageId are marked: the rows this run
    added that carry a suppressed identifier (read from the stored columns, as int_identifiers_extracted
    reads them) become `suppressed` and keep nothing of the event but where it came from — a
    warehouse-table row also its messageId and time fields as sent, by which later runs know a row they
    have seen. An update of those rows only, in a transaction of its own (as idr_mark_message_copies),
    so that the insert itself does no suppression work. Nothing before the first forget. -#}
{% macro idr_mark_suppressed_rows(validated) -%}
    {%- if idr_has_suppressed_identifiers() %}
    {%- set kept = ['event_source', 'source_name', 'source_row', 'load_id', 'loaded_at'] -%}
    {%- set warehouse_row_columns = [
        'message_id', 'timestamp_raw', 'original_timestamp_raw', 'sent_at_raw', 'received_at_raw',
    ] -%}
    {%- set batch -%}
        (select * from {{ validated }} where batch_started_at = {{ idr_batch_marker() }})
    {%- endset -%}
    begin transaction;
    update {{ validated }} as validated
    set
        rejection_reason = 'suppressed',
        rejection_detail = {{ idr_sql_string(idr_suppressed_detail()) }},
        {%- for column in idr_staged_event_columns() + ['occurred_at'] if column not in kept %}
        {%- if column in warehouse_row_columns %}
        {{ column }} = case when validated.event_source = 'landing' then null else validated.{{ column }} end
        {%- else %}
        {{ column }} = null
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from ({{ idr_suppressed_event_keys(batch) }}) as suppressed
    where
        validated.batch_started_at = {{ idr_batch_marker() }}
        and validated.event_key = suppressed.event_key;
    commit
    {%- endif %}
{%- endmacro %}

{#- post-hook of int_events_validated: the landing rows this run rejected as `suppressed` lose their
    text (an empty one), and say why, so that no later run (a full refresh included) reads them again. -#}
{% macro idr_scrub_suppressed_landing_rows(validated, landing) -%}
    {%- if idr_has_suppressed_identifiers()
        and adapter.get_relation(landing.database, landing.schema, landing.identifier) is not none %}
    update {{ landing }} as landing_rows
    set
        -- the landing table's raw_text is not null: an empty text
        raw_text = '',
        load_error = 'suppressed',
        load_error_detail = {{ idr_sql_string(idr_suppressed_detail()) }}
    from {{ validated }} as validated
    where
        validated.batch_started_at = {{ idr_batch_marker() }}
        and validated.rejection_reason = 'suppressed'
        and validated.event_source = 'landing'
        and landing_rows.load_error is distinct from 'suppressed'
        and landing_rows.load_id = validated.load_id
        and landing_rows.source_file = validated.source_name
        and landing_rows.source_line = validated.source_row
    {%- endif %}
{%- endmacro %}

{#- The rejection_detail of a suppressed row. -#}
{% macro idr_suppressed_detail() -%}
    {{- return('the event carries an identifier of a person forgotten by idr forget') -}}
{%- endmacro %}
