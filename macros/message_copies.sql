{#- Usable rows that repeat a messageId: within one run, the first copy received (then loaded) is
    kept and the others are rejected as duplicate_message_id. -#}

{#- The order that decides which copy of a messageId is kept: the first one. -#}
{% macro idr_message_copy_order() -%}
    {{ return([
        'received_at nulls last', 'loaded_at nulls last', 'event_source', 'source_name', 'source_row',
        'occurred_at', 'event_type', 'user_id', 'anonymous_id',
    ]) }}
{%- endmacro %}

{#- The detail of a duplicate_message_id rejection. -#}
{% macro idr_duplicate_detail(message_id_expr) -%}
    'messageId ' || {{ message_id_expr }} || ' was already accepted from an earlier row'
{%- endmacro %}

{#- Whether int_events_validated leaves the copies within a run to idr_mark_message_copies (true on
    DuckDB: a window over every new row, with all its columns, costs more than the rest of the model)
    or ranks them in its query (elsewhere). -#}
{% macro idr_marks_message_copies_after_insert() -%}
    {{ return(adapter.dispatch('idr_marks_message_copies_after_insert', 'identity_resolution')()) }}
{%- endmacro %}

{% macro default__idr_marks_message_copies_after_insert() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro duckdb__idr_marks_message_copies_after_insert() -%}
    {{ return(true) }}
{%- endmacro %}

{#- Post-hook of int_events_validated, run after the model's own transaction has committed: the rows
    not yet looked at (written after the watermark this hook records, so that rows of a run killed
    before its hook are looked at by the next run) that repeat the messageId of another such usable
    row and are not its first copy become duplicate_message_id rejections, and get back their raw
    text from the landing table. Groups the 64-bit hashes of the new rows' messageIds, then reads the
    narrow columns of only the rows whose hash repeats; rows are told apart by DuckDB's rowid. In a transaction of its own: an update in the insert's transaction would make
    DuckDB write every inserted row to the WAL. Nothing where idr_marks_message_copies_after_insert
    is false. -#}
{% macro idr_mark_message_copies(validated, landing) -%}
    {{ return(adapter.dispatch('idr_mark_message_copies', 'identity_resolution')(validated, landing)) }}
{%- endmacro %}

{% macro default__idr_mark_message_copies(validated, landing) -%}
{%- endmacro %}

{% macro duckdb__idr_mark_message_copies(validated, landing) -%}
    {%- set landing_exists = execute and adapter.get_relation(landing.database, landing.schema, landing.identifier) is not none -%}
    {%- set watermark_id = idr_sql_string('idr_mark_message_copies.' ~ validated.identifier) -%}
    {%- set query -%}
        select coalesce(max(watermarks.tested_through_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ idr_test_watermarks() }} as watermarks
        where watermarks.test_id = {{ watermark_id }}
    {%- endset -%}
    begin transaction;
    update {{ validated }} as validated
    set
        rejection_reason = 'duplicate_message_id',
        rejection_detail = {{ idr_duplicate_detail('validated.message_id') }},
        raw_text = copies.raw_text
    from (
        with copied_hashes as (
            -- the messageIds of the new usable rows that repeat, by 64-bit hash: a group by over
            -- integers (the messageIds themselves are compared below, so a hash collision marks nothing)
            select {{ idr_hash(['message_id']) }} as message_hash
            from {{ validated }}
            where batch_started_at > {{ idr_queried_timestamp(query) }} and rejection_reason is null
            group by {{ idr_hash(['message_id']) }}
            having count(*) > 1
        ),

        new_rows as (
            -- those rows only, with the columns that order their copies
            select
                rowid as row_id,
                message_id,
                {{ idr_message_copy_order() | map('replace', ' nulls last', '') | join(', ') }},
                load_id
            from {{ validated }}
            where
                batch_started_at > {{ idr_queried_timestamp(query) }}
                and rejection_reason is null
                and {{ idr_hash(['message_id']) }} in (select copied_hashes.message_hash from copied_hashes)
        ),

        ranked as (
            select
                *,
                row_number() over (
                    partition by message_id
                    order by {{ idr_message_copy_order() | join(', ') }}, row_id
                ) as copy_number
            from new_rows
        ),

        later_copies as (
            select * from ranked
            where copy_number > 1
        ),

        {%- if landing_exists %}

        landing_rows as materialized (
            -- the landing rows of those copies (a JSON-array line may have several: one per element),
            -- found on the narrow columns
            select
                later_copies.row_id,
                later_copies.message_id,
                landing.rowid as landing_row
            from later_copies
            inner join {{ landing }} as landing
                on
                    later_copies.event_source = 'landing'
                    and later_copies.load_id = landing.load_id
                    and later_copies.source_name = landing.source_file
                    and later_copies.source_row = landing.source_line
        ),

        landing_texts as materialized (
            -- their texts, fetched by rowid (a join on the text itself would read every line)
            select
                rowid as landing_row,
                raw_text
            from {{ landing }}
            where rowid in (select landing_rows.landing_row from landing_rows)
        ),

        texts as (
            -- the element with this messageId
            select
                landing_rows.row_id,
                min(landing_texts.raw_text) as raw_text
            from landing_rows
            inner join landing_texts on landing_rows.landing_row = landing_texts.landing_row
            where json_extract_string(landing_texts.raw_text, '$.messageId') = landing_rows.message_id
            group by landing_rows.row_id
        ),
        {%- endif %}

        final as (
            select
                later_copies.row_id,
                {{ 'texts.raw_text' if landing_exists else 'cast(null as varchar)' }} as raw_text
            from later_copies
            {%- if landing_exists %}
            left join texts on later_copies.row_id = texts.row_id
            {%- endif %}
        )

        select * from final
    ) as copies
    where validated.rowid = copies.row_id;
    delete from {{ idr_test_watermarks() }} where test_id = {{ watermark_id }};
    insert into {{ idr_test_watermarks() }} values ({{ watermark_id }}, {{ idr_batch_marker() }});
    commit
{%- endmacro %}
