"""``feedwright serve``: the output folder over HTTP, a webhook that rebuilds, WebSub pings.

A thin layer over :func:`feedwright.engine.build`: :mod:`.app` is the app factory,
:mod:`.files` serves feed files, :mod:`.webhook` checks signatures, :mod:`.rebuild` runs
builds in the background and :mod:`.websub` pings hubs.
"""
