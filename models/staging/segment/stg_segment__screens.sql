{{ stage_segment_table('screens', 'screen') }}
