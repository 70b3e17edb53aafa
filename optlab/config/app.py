"""The link keys of the whole app, which every page's link keeps as it found them: the language and the lesson.

A page's own fields may not reuse these keys (``optlab.fields.Fields`` refuses it), and a page that writes its
link leaves them in (``optlab.ui.fields.write_link``).
"""

from __future__ import annotations

from optlab.fields import Field, Fields
from optlab.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_

LANG = Field("lang", "choice", DEFAULT_LANGUAGE, label=N_("Language"), choices=tuple(LANGUAGES), cache=False,
             view=True, doc=("zh", "the language the page is shown in"))
LESSON = Field("lesson", "text", "", label=N_("Lesson"), max_len=80, cache=False, view=True,
               doc=("momentum-kappa-100", "a class lesson whose locks and hidden controls apply"))
CLASS = Field("class", "text", "", label=N_("Class code"), max_len=12, cache=False, view=True,
              doc=("K7QM2T", "the class a student joins from this page (optlab.classroom)"))
PRESENT = Field("present", "choice", "", label=N_("Presenter view"), choices=("", "1"), cache=False, view=True,
                doc=("1", "the presenter view: the figure large, a QR code to join"))
APP_FIELDS = Fields((LANG, LESSON, CLASS, PRESENT))
APP_KEYS = APP_FIELDS.keys
