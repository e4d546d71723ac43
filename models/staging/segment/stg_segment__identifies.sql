{{ stage_segment_table('identifies', 'identify') }}
