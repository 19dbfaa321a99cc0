"""Multi-seat drills: one drill, many terminals.

The facilitator's process (``tabletop drill SCENARIO --serve``) owns the one ``Drill``: its
console drives the clock and only it has the facilitator screen. A seat server (``server``)
beside it gives each participant a seat behind their own token (``tokens``), and every joined
seat (``tabletop join URL --as bob --token T``) runs the same console over a *replica*
(``replica``) of the drill.

Why a replica and not a stream of screens: the drill is deterministic (same scenario, seed and
commands at the same drill times ⇒ the same timeline, byte for byte: what ``replay --verify``
checks), so a replica that applies the same commands and outside events at the same drill
times, and follows the server's clock, *is* the drill, and every screen of the console works
on it unchanged (PromQL, logs, kubectl views, runbooks, the score at the end) while the
console stays thin and knows nothing of seats. The server sends only what the timeline would
replay (``feed``: its command and outside events, in timeline order, then its end) plus the
clock; a seat that joins late catches up by running the drill to the present (a drill hour
simulates in well under a second). A seat never changes its replica itself: its commands go to
the server (``client``), which runs them in the drill's thread in the name of the token's
participant, whatever the seat claims, so the order of commands is the server's and is on the
timeline; the seat's replica then runs the same command at the same place and shows its own
result of it.
"""
