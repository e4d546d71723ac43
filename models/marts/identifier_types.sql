{#- The identifier rules the warehouse was built with: one row per identifier type of the vars
    idr_identifier_types and idr_lowercase_identifier_types, with its merge-protection settings and
    whether its values are lower-cased. Lookups by value (idr profile, explain, graph) normalise what
    they are given with is_lowercased, which comes from idr_normalized_identifier_value itself. -#}
{%- set types = var('idr_identifier_types').keys() | list -%}
{%- for lowercase_type in var('idr_lowercase_identifier_types') if lowercase_type not in types -%}
{%- do types.append(lowercase_type) -%}
{%- endfor %}

with configured_types as (
    {%- for identifier_type in types %}
    {%- set settings = var('idr_identifier_types').get(identifier_type, {}) %}
    select
        {{ idr_sql_string(identifier_type) }} as identifier_type,
        {{ idr_sql_string(settings.get('window', var('idr_default_identifier_window'))) }} as limit_window
    {{- ' union all' if not loop.last }}
    {%- endfor %}
),

final as (
    select
        identifier_type,
        {{ idr_identifier_priority('identifier_type') }} as identifier_priority,
        {{ idr_identifier_setting('identifier_type', 'limit') }} as identifier_limit,
        limit_window,
        {{ idr_normalized_identifier_value("' A '", type_expr='identifier_type') }} = 'a' as is_lowercased
    from configured_types
)

select * from final
