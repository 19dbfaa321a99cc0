"""Export a recorded drill's incident to the incident-management side.

``incident`` reads the incident out of a timeline (``document``'s models, which are also the
``json`` format); ``pagerduty`` and ``incidentio`` turn it into the requests those tools'
APIs accept.
"""
