"""The live connection to the practice system over HL7 v2 and MLLP.

- listener.py: SIU messages in (applied through shared.imports), an ACK out for each.
- outbox.py: events to tell the practice system, written where they happen.
- sender.py: the outbox's rows out, in order, each until its ACK.
- health.py: what the manager's interface page shows.
- messages.py, mllp.py: HL7 text and MLLP framing.
"""
