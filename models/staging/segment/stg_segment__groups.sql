{{ stage_segment_table('groups', 'group') }}
