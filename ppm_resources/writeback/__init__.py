"""The Notion write-back: Action pages created from drafts, never two for one source item (DESIGN §8).

drafts      ActionDraft (dq / advisor / manual) and the pure builders from DQ issues and Advisor rows
properties  a draft as Notion page properties and body, from the mapping and the live schema
lock        SourceLocks: one writer per Source ID at a time on this machine
writer      ActionWriter.ensure(draft): look up by Source ID, create, re-read after an ambiguous failure
"""
