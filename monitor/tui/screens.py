"""The review UI's pop-ups: key help, the note editor, the search box, a link to copy."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from monitor.text import one_line

NOTE_LIMIT = 2000  # characters: a note is a line for colleagues, not a report


class HelpScreen(ModalScreen[None]):
    """The key bindings, over the queue."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close help"),
    ]

    def __init__(self, key_help: Text) -> None:
        super().__init__()
        self.key_help = key_help

    def compose(self) -> ComposeResult:
        yield Static(self.key_help, id="help", markup=False)

    def action_close(self) -> None:
        self.dismiss()


class PromptScreen(ModalScreen[str | None]):
    """One line of input over the queue: Enter returns it, Esc returns None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.prompt_title = title
        self.value = one_line(value)
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Static(Text(self.prompt_title, style="bold"), markup=False)
            yield Input(
                self.value, placeholder=self.placeholder, max_length=NOTE_LIMIT, id="prompt-input"
            )
            yield Static(Text("Enter saves · Esc cancels", style="dim"), markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteScreen(PromptScreen):
    """The analyst's note on the highlighted story."""

    def __init__(self, note: str) -> None:
        super().__init__("Note for colleagues (empty removes it)", note, "e.g. seen by Kim")


class SearchScreen(PromptScreen):
    """Search the whole archive."""

    def __init__(self, query: str = "") -> None:
        super().__init__("Search every article (title and summary)", query, "e.g. 탈북 or Dandong")


class LinkScreen(ModalScreen[None]):
    """A link that could not be opened here, to copy by hand."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,o,q", "close", "Close")]

    def __init__(self, url: str, reason: str) -> None:
        super().__init__()
        self.url = one_line(url)
        self.reason = one_line(reason)

    def compose(self) -> ComposeResult:
        body = Text.assemble(
            (self.reason, "bold"), "\n\n", (self.url, "underline"), ("\n\nEsc closes", "dim")
        )
        yield Static(body, id="link", markup=False)

    def action_close(self) -> None:
        self.dismiss()
