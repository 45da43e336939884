"""Chat for pages and incidents: Slack, Mattermost, Microsoft Teams and Discord.

A team's chat target (`models.ChatTarget`) says where its pages go. Receivers of the
paging and incident signals queue `ChatMessage` rows in the sender's transaction; they are
sent after it commits (`delivery`), retried with backoff, and a failure stays on the row,
shown on the page and the incident. Acknowledge / Resolve / Escalate buttons come back
through signed interaction endpoints (`chat_views`) and call the paging engine.
"""
