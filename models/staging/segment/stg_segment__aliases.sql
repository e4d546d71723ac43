{{ stage_segment_table('aliases', 'alias') }}
