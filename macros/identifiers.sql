{#- A merge-protection setting (priority or limit) of an identifier type, as a CASE expression over
    the var idr_identifier_types; types that are not configured get idr_default_identifier_<setting>. -#}
{% macro idr_identifier_setting(type_expr, setting) -%}
    {%- set default = var('idr_default_identifier_' ~ setting) | int -%}
    case {{ type_expr }}
        {%- for identifier_type, settings in var('idr_identifier_types').items() %}
        when {{ idr_sql_string(identifier_type) }} then {{ settings.get(setting, default) | int }}
        {%- endfor %}
        else {{ default }}
    end
{%- endmacro %}

{#- The configured priorities (var idr_identifier_types and idr_default_identifier_priority),
    distinct, most trusted first. -#}
{% macro idr_identifier_priorities() -%}
    {%- set priorities = [var('idr_default_identifier_priority') | int] -%}
    {%- for settings in var('idr_identifier_types').values() -%}
        {%- do priorities.append(settings.get('priority', var('idr_default_identifier_priority')) | int) -%}
    {%- endfor -%}
    {{ return(priorities | unique | sort) }}
{%- endmacro %}

{% macro idr_identifier_priority(type_expr) -%}
    {{ idr_identifier_setting(type_expr, 'priority') }}
{%- endmacro %}

{#- The start of the calendar window (UTC) an identifier's limit counts it in, from the `window`
    setting of its type: null for `ever`, else the year, month, week (Monday) or day of `time_expr`. -#}
{% macro idr_limit_window_start(type_expr, time_expr) -%}
    {%- set dateparts = {'annually': 'year', 'monthly': 'month', 'weekly': 'week', 'daily': 'day'} -%}
    {%- set default = var('idr_default_identifier_window') -%}
    {%- for window in [default] + var('idr_identifier_types').values() | map(attribute='window') | list -%}
        {%- if window and window != 'ever' and window not in dateparts -%}
            {{ exceptions.raise_compiler_error("unknown limit window '" ~ window ~ "': use ever, annually, monthly, weekly or daily") }}
        {%- endif -%}
    {%- endfor -%}
    case {{ type_expr }}
        {%- for identifier_type, settings in var('idr_identifier_types').items() %}
        {%- set window = settings.get('window', default) %}
        when {{ idr_sql_string(identifier_type) }} then {{ idr_window_start_for(window, time_expr, dateparts) }}
        {%- endfor %}
        else {{ idr_window_start_for(default, time_expr, dateparts) }}
    end
{%- endmacro %}

{% macro idr_window_start_for(window, time_expr, dateparts) -%}
    {%- if window == 'ever' -%}
        cast(null as {{ dbt.type_timestamp() }})
    {%- else -%}
        cast({{ dbt.date_trunc(dateparts[window], time_expr) }} as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}

{#- The conditions of an entry of var idr_identifier_sources on the event row: its `event_types` and
    `device_types` (case-insensitive), as a list of SQL predicates (empty when it has neither). -#}
{% macro idr_identifier_source_filters(source) -%}
    {%- set filters = [] -%}
    {%- for setting, expr in [('event_types', 'event_type'), ('device_types', 'lower(trim(context_device_type))')] -%}
        {%- if source.get(setting) -%}
            {%- set lowered = [] -%}
            {%- for value in source[setting] -%}{%- do lowered.append(value | lower) -%}{%- endfor -%}
            {%- do filters.append(idr_is_one_of(expr, lowered)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(filters) }}
{%- endmacro %}

{#- The normalised form of an identifier value: trimmed, and lower-cased for the types of var
    idr_lowercase_identifier_types. The type is a configured name (`identifier_type`) when it is known
    when the SQL is written, or else the SQL expression `type_expr`. -#}
{% macro idr_normalized_identifier_value(value_expr, identifier_type=none, type_expr=none) -%}
    {%- set lowercase_types = var('idr_lowercase_identifier_types') -%}
    {%- if identifier_type is not none -%}
        {{ 'lower(trim(' ~ value_expr ~ '))' if identifier_type in lowercase_types else 'trim(' ~ value_expr ~ ')' }}
    {%- elif lowercase_types -%}
        case when {{ idr_is_one_of(type_expr, lowercase_types) }} then lower(trim({{ value_expr }})) else trim({{ value_expr }}) end
    {%- else -%}
        trim({{ value_expr }})
    {%- endif -%}
{%- endmacro %}

{#- The entries of var idr_identifier_sources as mappings: `type`, `label` (the identifier_source
    the rows get: the column, then `.path`), `value` (the normalised value as SQL) and `filters` (its
    event and device type conditions). -#}
{% macro idr_identifier_sources() -%}
    {%- set sources = [] -%}
    {%- for source in var('idr_identifier_sources') -%}
        {%- set column = source['column'] -%}
        {%- if source.get('path') -%}
            {%- set value_expr = idr_json_extract(column, source['path'].split('.')) -%}
            {%- set label = column ~ '.' ~ source['path'] -%}
        {%- else -%}
            {%- set value_expr = column -%}
            {%- set label = column -%}
        {%- endif -%}
        {%- do sources.append({
            'type': source['type'],
            'label': label,
            'value': idr_normalized_identifier_value(value_expr, identifier_type=source['type']),
            'filters': idr_identifier_source_filters(source),
        }) -%}
    {%- endfor -%}
    {{ return(sources) }}
{%- endmacro %}

{#- One select per configured identifier source (var idr_identifier_sources) over `relation`, each
    returning event_key, occurred_at, identifier_type, identifier_value (normalised, never empty) and
    identifier_source. A value that an event also has from another source of the same type is
    returned once, by the source whose label sorts first: the selects need no grouping. -#}
{% macro idr_identifier_source_selects(relation) -%}
    {%- set sources = idr_identifier_sources() -%}
    {%- set selects = [] -%}
    {%- for source in sources -%}
        {%- set position = loop.index0 -%}
        {%- set conditions = ['coalesce(' ~ source['value'] ~ ", '') <> ''"] + source['filters'] -%}
        {%- for other in sources -%}
            {%- if other['type'] == source['type'] and (
                other['label'] < source['label'] or (other['label'] == source['label'] and loop.index0 < position)
            ) -%}
                {%- set same_value = [other['value'] ~ ' = ' ~ source['value']] + other['filters'] -%}
                {%- do conditions.append('not coalesce(' ~ same_value | join(' and ') ~ ', false)') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do selects.append(
            'select event_key, occurred_at, ' ~ idr_sql_string(source['type']) ~ ' as identifier_type, '
            ~ source['value'] ~ ' as identifier_value, ' ~ idr_sql_string(source['label'])
            ~ ' as identifier_source from ' ~ relation ~ ' where ' ~ conditions | join(' and ')
        ) -%}
    {%- endfor -%}
    {{ return(selects) }}
{%- endmacro %}

{#- True when an event row certainly has a usable identifier from a configured source that reads a
    column directly (var idr_identifier_sources without `path`): the value, normalised as
    int_identifiers_extracted does, is neither empty nor blocked. Identifiers read from JSON paths and
    context.externalIds are not looked at, so false means "maybe none". -#}
{% macro idr_has_certain_identifier() -%}
    {%- set checks = [] -%}
    {%- for source in var('idr_identifier_sources') if not source.get('path') -%}
        {%- set value_expr = idr_normalized_identifier_value(source['column'], identifier_type=source['type']) -%}
        {%- set conditions = [
            'coalesce(' ~ value_expr ~ ", '') <> ''",
            'not coalesce(' ~ idr_is_blocked_value(value_expr) ~ ', false)',
        ] + idr_identifier_source_filters(source) -%}
        {%- do checks.append('(' ~ conditions | join(' and ') ~ ')') -%}
    {%- endfor -%}
    {{ '(' ~ checks | join(' or ') ~ ')' if checks else 'false' }}
{%- endmacro %}

{#- For int_events_validated rows (as `relation`): true for the accepted events that may have no usable
    identifier. int_events_validated keeps the raw text of a landing row exactly when
    idr_has_certain_identifier is false (or the row is rejected); rows from Segment warehouse tables
    have no raw text and are all looked at. -#}
{% macro idr_may_lack_identifier(relation) -%}
    ({{ relation }}.raw_text is not null or {{ relation }}.event_source <> 'landing')
{%- endmacro %}

{#- True when a normalized identifier value is a placeholder that must never identify anybody. -#}
{% macro idr_is_blocked_value(value_expr) -%}
    {%- set blocked = [] -%}
    {%- for value in var('idr_blocked_values') -%}{%- do blocked.append(value | lower) -%}{%- endfor -%}
    (
        {{ idr_regex_matches(value_expr, var('idr_blocked_value_pattern')) }}
        {%- if blocked %}
        or {{ idr_is_one_of('lower(' ~ value_expr ~ ')', blocked) }}
        {%- endif %}
    )
{%- endmacro %}

{#- The context.externalIds entries of the events of `relation` (columns event_key, occurred_at,
    context_external_ids) as identifiers: one row per entry with a type and a value, the type
    lower-cased and trimmed, the value normalised as every identifier is. -#}
{% macro idr_external_identifier_rows(relation) -%}
    select * from (
        select
            event_key,
            occurred_at,
            identifier_type,
            {{ idr_normalized_identifier_value('raw_value', type_expr='identifier_type') }} as identifier_value,
            'context.externalIds' as identifier_source
        from (
            select
                event_key,
                occurred_at,
                lower(trim({{ idr_json_extract('entry_json', ['type']) }})) as identifier_type,
                {{ idr_json_extract('entry_json', ['id']) }} as raw_value
            from (
                {{ idr_json_entries(relation, ['event_key', 'occurred_at'], 'context_external_ids') }}
            ) as entries
        ) as external_ids
        where coalesce(identifier_type, '') <> ''
    ) as normalized
    where coalesce(identifier_value, '') <> ''
{%- endmacro %}
