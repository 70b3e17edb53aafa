"""The teacher's side in Streamlit: the "prepare for class" panel, the presenter view, joining and submitting,
and the class board. The rules and the database are ``optlab.classroom``; this package only draws them.

A page makes one call, ``optlab.ui.classroom.panel.class_panel`` (the Surface Lab passes its surface, runs and
configuration); ``optlab.ui.constraints`` asks ``lesson`` what an open lesson locks.
"""
