"""The chain: the ``Core`` behind every face, the inbound and outbound compilers that build each
handler's entry and each wrapper's sender from the stages' pieces, and event capture for tests.
"""
