{{ stage_segment_table('tracks', 'track') }}
