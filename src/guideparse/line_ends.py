"""What the last character of a line says it is: a sentence, a lead-in, a quotation.

Headings and quotations are told from prose by how a line ends. The marks are
defined once here, and each test below names what it tells apart; they differ
because the lines they judge differ (see each).
"""

from __future__ import annotations

#: Marks that close a sentence.
SENTENCE_END = (".", "!", "?")
#: A colon closing a line leads in to what follows: a list, a table ("Key features:").
LEAD_IN_END = (":",)
#: Closing double quotation marks, straight and curly.
CLOSING_DOUBLE_QUOTES = ('"', "”")
#: The closing single quotation mark, which is also the typographic apostrophe.
CLOSING_SINGLE_QUOTE = ("’",)

#: A table's title (the line above its header row) ends in none of these. The header row
#: below already says a table starts, so only a sentence or a lead-in rules a title out.
NOT_TABLE_TITLE_END = SENTENCE_END + LEAD_IN_END
#: A sub-heading in prose ends in none of these. Nothing below confirms a sub-heading, so a
#: short line closing a quotation ('“Setup took a day.”') is prose too.
NOT_SUBHEADING_END = NOT_TABLE_TITLE_END + CLOSING_DOUBLE_QUOTES + CLOSING_SINGLE_QUOTE
#: How the text of an admin's quote ends; a short line ending otherwise is the quote's
#: attribution ('IT administrator implementing Mailjet'). A closing parenthesis ends quote
#: text ('… (paraphrased)'); a lead-in does not. The single quote mark is left out, as the
#: parser has always read attributions: it is also the apostrophe ("… our admins’").
QUOTE_TEXT_END = SENTENCE_END + CLOSING_DOUBLE_QUOTES + (")",)
