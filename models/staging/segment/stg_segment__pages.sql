{{ stage_segment_table('pages', 'page') }}
