"""One router per dashboard page group; every route is a :class:`~sendout.dashboard.pages.PageRoute`."""
