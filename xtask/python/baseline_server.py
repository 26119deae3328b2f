#!/usr/bin/env python3
"""The Python capacity baseline: a minimal grpc.aio server running the demo agent.

It serves ``com.cisco.wcc.ccai.media.v1.VoiceVirtualAgent`` from the project's ``proto/`` files
and implements exactly the demo agent of ``docs/demo-agent.md``, doing per call the same work
as the Rust server (``byova serve``), so that ``cargo xtask loadtest`` compares like with like:

* conversations keyed by ``conversation_id`` across the per-turn RPCs, reaped when idle;
* caller audio decoded to PCM (``audioop``) and run through an energy endpointer on 20 ms frames:
  START_OF_INPUT once speech lasted 100 ms (a standalone event-only FINAL), END_OF_INPUT after
  800 ms of trailing silence, the utterance (with 300 ms of pre-roll) kept to be echoed back;
* the reply in WAV mode (one FINAL whose prompts are mu-law WAV files) or CHUNK mode
  (END_OF_INPUT on a CHUNK, audio CHUNKs of 100 B - 64 KiB, one FINAL without audio);
* the DTMF menu, NO_INPUT, client SESSION_END, terminal events ending the RPC.

Plain asyncio (no uvloop): this is the "minimal grpc.aio server" a Python developer writes, and
grpc.aio runs its own completion-queue poller, so an alternative event loop gains little.

Run it through ``cargo xtask loadtest``, which creates the venv and the stubs; by hand:

    target/python-baseline/venv/bin/python xtask/python/baseline_server.py --mode chunk --port 50051

It prints ``listening on HOST:PORT`` once it serves, and stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import signal
import sys
import time
import warnings

with warnings.catch_warnings():
    # Deprecated since 3.11 and removed in 3.13; present in the 3.11 this baseline runs on.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

import stubs
from wavfile import mulaw_wav, read_mulaw_wav

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_PROMPTS = ROOT / "crates" / "byova-cli" / "assets" / "prompts"

# Endpointing, as in the Rust server's defaults (byova_media::vad::EndpointerConfig).
FRAME_BYTES = 160  # 20 ms of 8 kHz mu-law
FRAME_MS = 20
START_DEBOUNCE_FRAMES = 100 // FRAME_MS
END_SILENCE_FRAMES = 800 // FRAME_MS
MAX_UTTERANCE_FRAMES = 30_000 // FRAME_MS
PRE_ROLL_BYTES = 300 * 8
#: Audio messages shorter than this are ignored (Webex sends a few stray bytes at call start).
MIN_AUDIO_MESSAGE = 16
#: Frame RMS (of 32768) at or above which a frame is speech: about -40 dBFS.
DEFAULT_THRESHOLD = 328

# CHUNK mode limits (Webex): every CHUNK carries 100 B - 64 KiB.
MIN_CHUNK = 100
MAX_CHUNK = 65_536
MULAW_SILENCE = 0xFF

IDLE_TIMEOUT_S = 600.0
MAX_CALL_S = 3600.0
REAP_INTERVAL_S = 1.0

PROMPT_FILES = ("greeting", "you_said", "menu_help", "transfer", "goodbye", "no_input")
#: Prompts the caller may interrupt (docs/demo-agent.md).
BARGE_IN = frozenset({"greeting", "menu_help"})

# Wire enum values (proto/); the generated modules carry the same numbers.
MULAW, LINEAR16, ALAW = 2, 1, 3
EV_SESSION_START, EV_SESSION_END, EV_NO_INPUT, EV_START_OF_DTMF, EV_CUSTOM = 1, 2, 3, 4, 5
OUT_SESSION_END, OUT_TRANSFER, OUT_START_OF_INPUT, OUT_END_OF_INPUT = 1, 2, 4, 5
FINAL, CHUNK = 0, 2
INPUT_VOICE_DTMF = 3
DTMF_CHARS = {i: str(i) for i in range(1, 10)}
DTMF_CHARS.update({10: "0", 11: "A", 12: "B", 13: "C", 14: "D", 15: "*", 16: "#"})
DTMF_POUND = 16

# Filled by load_stubs().
pb = None
common = None
pb_grpc = None
grpc = None


def load_stubs(gen_dir: pathlib.Path) -> None:
    """Imports grpc and the stubs generated from proto/ into this module's globals."""
    global pb, common, pb_grpc, grpc
    grpc, common, pb, pb_grpc = stubs.load(gen_dir, "baseline_server")


class ProtocolError(Exception):
    """A request breaks the contract: the RPC fails with INVALID_ARGUMENT, the call closes."""


# --------------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------------


def chunk_sizes(length: int, max_chunk: int = MAX_CHUNK) -> list[int]:
    """CHUNK sizes for a prompt of ``length`` bytes: as few, as large as possible, none < 100 B.

    The same rule as the Rust server (byova_media::audio::chunks); a prompt shorter than 100 B
    is padded with silence by the caller of this function.
    """
    sizes = []
    remaining = length
    while remaining > 0:
        if remaining <= max_chunk:
            size = remaining
        else:
            pieces = -(-remaining // max_chunk)
            if MIN_CHUNK * pieces > remaining:
                size = max_chunk
            else:
                size = min(max_chunk, remaining - MIN_CHUNK * (pieces - 1))
        sizes.append(size)
        remaining -= size
    return sizes


def split_chunks(audio: bytes) -> list[bytes]:
    """Splits raw mu-law into CHUNK payloads (see :func:`chunk_sizes`)."""
    pieces = []
    pos = 0
    for size in chunk_sizes(len(audio)):
        piece = audio[pos : pos + size]
        pos += size
        if len(piece) < MIN_CHUNK:
            piece += bytes([MULAW_SILENCE]) * (MIN_CHUNK - len(piece))
        pieces.append(piece)
    return pieces


class Endpointer:
    """Energy endpointer over 20 ms frames of 8 kHz audio, recording the utterance as mu-law.

    ``push`` returns the events of one audio message: ``"start"`` (send START_OF_INPUT) and
    ``"end"`` (send END_OF_INPUT), each at most once. Other encodings and 16 kHz are converted
    to 8 kHz mu-law first; zero encoding / rate mean the last declared values, else 8 kHz mu-law.
    """

    __slots__ = (
        "threshold", "encoding", "rate", "pending", "odd_byte", "ratecv_state",
        "state", "run", "silence", "length", "recording",
    )

    SILENCE, ONSET, SPEECH, ENDED = range(4)

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.encoding = MULAW
        self.rate = 8000
        self.pending = b""
        self.odd_byte = b""
        self.ratecv_state = None
        self.state = self.SILENCE
        self.run = 0  # consecutive speech frames while in ONSET
        self.silence = 0  # consecutive non-speech frames while in SPEECH
        self.length = 0  # frames since the onset
        self.recording = bytearray()

    @property
    def speaking(self) -> bool:
        return self.state == self.SPEECH

    def push(self, audio: bytes, encoding: int, rate: int) -> list[str]:
        encoding = encoding or self.encoding
        rate = rate or self.rate
        if (encoding, rate) != (self.encoding, self.rate):
            # `pending` is already 8 kHz mu-law; only the decoder state belongs to the format.
            self.encoding, self.rate = encoding, rate
            self.odd_byte, self.ratecv_state = b"", None
            if self.state == self.ONSET:
                self.state, self.run = self.SILENCE, 0
        if len(audio) < MIN_AUDIO_MESSAGE or self.state == self.ENDED:
            return []
        if encoding != MULAW or rate != 8000:
            audio = self._to_mulaw_8k(audio, encoding, rate)
        data = self.pending + audio if self.pending else audio
        usable = len(data) - len(data) % FRAME_BYTES
        self.pending = data[usable:]
        if not usable:
            return []
        pcm = audioop.ulaw2lin(data[:usable] if usable < len(data) else data, 2)
        events = []
        recording = self.recording
        for frame in range(usable // FRAME_BYTES):
            start = frame * FRAME_BYTES
            recording += data[start : start + FRAME_BYTES]
            voiced = audioop.rms(pcm[2 * start : 2 * (start + FRAME_BYTES)], 2) >= self.threshold
            event = self._step(voiced)
            if event:
                events.append(event)
                if event == "end":
                    self.pending = b""
                    break
        if self.state == self.SILENCE or self.state == self.ONSET:
            # Keep only what the next onset may need (pre-roll), trimming in 500 ms steps.
            keep = PRE_ROLL_BYTES + self.run * FRAME_BYTES
            if len(recording) > keep + 4000:
                del recording[: len(recording) - keep]
        return events

    def _step(self, voiced: bool) -> str | None:
        state = self.state
        if state == self.SPEECH:
            self.length += 1
            self.silence = 0 if voiced else self.silence + 1
            if self.length >= MAX_UTTERANCE_FRAMES or self.silence >= END_SILENCE_FRAMES:
                self.state = self.ENDED
                return "end"
            return None
        if not voiced:
            self.state, self.run = self.SILENCE, 0
            return None
        self.run += 1
        if self.run < START_DEBOUNCE_FRAMES:
            self.state = self.ONSET
            return None
        # Onset confirmed: the utterance starts PRE_ROLL before the first speech frame.
        keep = PRE_ROLL_BYTES + self.run * FRAME_BYTES
        if len(self.recording) > keep:
            del self.recording[: len(self.recording) - keep]
        self.state, self.length, self.silence, self.run = self.SPEECH, self.run, 0, 0
        return "start"

    def _to_mulaw_8k(self, audio: bytes, encoding: int, rate: int) -> bytes:
        if encoding == ALAW:
            pcm = audioop.alaw2lin(audio, 2)
        elif encoding == LINEAR16:
            audio = self.odd_byte + audio
            if len(audio) % 2:
                audio, self.odd_byte = audio[:-1], audio[-1:]
            else:
                self.odd_byte = b""
            pcm = audio
        else:
            pcm = audioop.ulaw2lin(audio, 2)
        if rate != 8000:
            pcm, self.ratecv_state = audioop.ratecv(pcm, 2, 1, rate, 8000, self.ratecv_state)
        return audioop.lin2ulaw(pcm, 2)

    def utterance(self) -> bytes:
        return bytes(self.recording)


# --------------------------------------------------------------------------------------------
# The demo agent
# --------------------------------------------------------------------------------------------


class Conversation:
    __slots__ = ("conversation_id", "turns", "session_started", "opened", "last_active", "closed")

    def __init__(self, conversation_id: str, now: float) -> None:
        self.conversation_id = conversation_id
        self.turns = 0
        self.session_started = False
        self.opened = now
        self.last_active = now
        self.closed = False


class Prompts:
    """The demo prompts, loaded once: WAV files for WAV mode, CHUNK payloads for CHUNK mode."""

    def __init__(self, folder: pathlib.Path) -> None:
        self.mulaw = {}
        self.wav = {}
        self.chunks = {}
        for name in PROMPT_FILES:
            path = folder / f"{name}.wav"
            try:
                audio = read_mulaw_wav(path.read_bytes())
            except (OSError, ValueError) as err:
                raise SystemExit(f"baseline_server: cannot load prompt {path}: {err}") from err
            self.mulaw[name] = audio
            self.wav[name] = mulaw_wav(audio)
            self.chunks[name] = split_chunks(audio)


class DemoAgent:
    """The servicer: ``ProcessCallerInput`` and ``ListVirtualAgents``."""

    def __init__(self, args: argparse.Namespace, prompts: Prompts) -> None:
        self.chunk_mode = args.mode == "chunk"
        self.max_turns = args.max_turns
        self.threshold = args.threshold
        self.agent_id = args.agent_id
        self.prompts = prompts
        self.conversations: dict[str, Conversation] = {}
        self.input_config = common.InputHandlingConfig(
            dtmf_config=common.DTMFInputConfig(
                inter_digit_timeout_msec=3000, termchar=DTMF_POUND, dtmf_input_length=1
            ),
            speech_timers=common.InputSpeechTimers(
                complete_timeout_msec=800, no_input_timeout_msec=10_000
            ),
        )

    # -- RPCs ---------------------------------------------------------------------------------

    async def ListVirtualAgents(self, request, context):
        return common.ListVAResponse(
            virtual_agents=[
                common.VirtualAgentInfo(
                    virtual_agent_id=self.agent_id,
                    virtual_agent_name="byova demo agent",
                    is_default=True,
                )
            ]
        )

    async def ProcessCallerInput(self, requests, context):
        """One turn: read until the reply is due, send it, complete the RPC with OK."""
        stream = requests.__aiter__()
        try:
            request = await stream.__anext__()
        except StopAsyncIteration:
            return
        conversation_id = request.conversation_id
        if not conversation_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "conversation_id is empty")
        conversation = self.conversations.get(conversation_id)
        try:
            kind, value = self.classify(request)
        except ProtocolError as err:
            if conversation is not None:
                self.close(conversation)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        agent_id = request.virtual_agent_id
        if conversation is None:
            if kind == "session_end":
                yield pb.VoiceVAResponse()
                return
            if agent_id and agent_id != self.agent_id:
                await context.abort(
                    grpc.StatusCode.NOT_FOUND, f"unknown virtual agent id {agent_id!r}"
                )
            conversation = Conversation(conversation_id, time.monotonic())
            self.conversations[conversation_id] = conversation
        else:
            if agent_id and agent_id != self.agent_id:
                await context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"conversation {conversation_id} is served by virtual agent {self.agent_id!r}",
                )
            conversation.last_active = time.monotonic()

        turn = Turn(self, conversation)
        finished = False
        try:
            while True:
                try:
                    responses, done = turn.handle(kind, value)
                except ProtocolError as err:
                    self.close(conversation)
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
                for response in responses:
                    yield response
                if done:
                    finished = True
                    return
                try:
                    request = await stream.__anext__()
                except StopAsyncIteration:
                    for response in turn.on_half_close():
                        yield response
                    finished = True
                    return
                if conversation.closed:
                    # Closed on another RPC (client SESSION_END, a terminal reply, the reaper).
                    if turn.owes_final:
                        yield pb.VoiceVAResponse()
                    finished = True
                    return
                conversation.last_active = time.monotonic()
                if request.conversation_id and request.conversation_id != conversation_id:
                    self.close(conversation)
                    await context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT, "conversation_id changed within one RPC"
                    )
                try:
                    kind, value = self.classify(request)
                except ProtocolError as err:
                    self.close(conversation)
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        finally:
            if not finished:
                # Aborted, or cancelled while the handler was busy: no continuation follows.
                # (grpc.aio reports a client cancel during a read as a plain end of input, so
                # such a call stays until its SESSION_END or the idle reaper.)
                self.close(conversation)

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def classify(request):
        """Validates a request and reduces it to (kind, value)."""
        which = request.WhichOneof("voice_va_input_type")
        if which == "audio_input":
            audio = request.audio_input
            if audio.encoding not in (0, LINEAR16, MULAW, ALAW):
                raise ProtocolError(f"unknown audio encoding {audio.encoding}")
            if audio.sample_rate_hertz not in (0, 8000, 16000):
                raise ProtocolError(
                    f"unsupported sample rate {audio.sample_rate_hertz} Hz (8000 or 16000 expected)"
                )
            return "audio", audio
        if which == "dtmf_input":
            digits = []
            for value in request.dtmf_input.dtmf_events:
                char = DTMF_CHARS.get(value)
                if char is None:
                    raise ProtocolError(f"unknown DTMF digit value {value}")
                digits.append(char)
            return "dtmf", "".join(digits)
        if which == "event_input":
            event_type = request.event_input.event_type
            if event_type == EV_SESSION_START:
                return "session_start", None
            if event_type == EV_SESSION_END:
                return "session_end", None
            if event_type in (EV_NO_INPUT, EV_START_OF_DTMF, EV_CUSTOM):
                return "event", event_type
            raise ProtocolError(f"unknown event type {event_type}")
        raise ProtocolError(
            "request carries no input: exactly one of audio_input, dtmf_input and event_input "
            "is required"
        )

    def close(self, conversation: Conversation) -> None:
        if not conversation.closed:
            conversation.closed = True
            if self.conversations.get(conversation.conversation_id) is conversation:
                del self.conversations[conversation.conversation_id]

    async def reap(self) -> None:
        """Closes idle and over-long conversations every second."""
        while True:
            await asyncio.sleep(REAP_INTERVAL_S)
            now = time.monotonic()
            expired = [
                c
                for c in self.conversations.values()
                if now - c.last_active > IDLE_TIMEOUT_S or now - c.opened > MAX_CALL_S
            ]
            for conversation in expired:
                self.close(conversation)

    def reply(self, prompts, terminal: int | None) -> list:
        """The wire messages of a reply: ``prompts`` is a list of (name or raw audio)."""
        barge_in_allowed = terminal is None
        responses = []
        final = pb.VoiceVAResponse(response_type=FINAL)
        for prompt in prompts:
            if isinstance(prompt, str):
                barge_in = barge_in_allowed and prompt in BARGE_IN
                if self.chunk_mode:
                    pieces = self.prompts.chunks[prompt]
                else:
                    wav = self.prompts.wav[prompt]
            else:
                barge_in = False
                if self.chunk_mode:
                    pieces = split_chunks(prompt)
                else:
                    wav = mulaw_wav(prompt) if prompt else b""
            if self.chunk_mode:
                for piece in pieces:
                    responses.append(
                        pb.VoiceVAResponse(
                            prompts=[pb.Prompt(audio_content=piece, is_barge_in_enabled=barge_in)],
                            response_type=CHUNK,
                        )
                    )
            else:
                final.prompts.append(pb.Prompt(audio_content=wav, is_barge_in_enabled=barge_in))
        if terminal is not None:
            final.output_events.append(common.OutputEvent(event_type=terminal))
        if terminal != OUT_SESSION_END:
            final.input_mode = INPUT_VOICE_DTMF
            final.input_handling_config.CopyFrom(self.input_config)
        responses.append(final)
        return responses


def event_only(event_type: int, response_type: int):
    return pb.VoiceVAResponse(
        output_events=[common.OutputEvent(event_type=event_type)], response_type=response_type
    )


class Turn:
    """One ProcessCallerInput RPC of a conversation."""

    __slots__ = ("agent", "conversation", "endpointer", "owes_final")

    def __init__(self, agent: DemoAgent, conversation: Conversation) -> None:
        self.agent = agent
        self.conversation = conversation
        self.endpointer = None
        self.owes_final = False

    def handle(self, kind: str, value) -> tuple[list, bool]:
        """Acts on one request: (responses to send, whether the RPC ends after them)."""
        agent = self.agent
        if kind == "audio":
            endpointer = self.endpointer
            if endpointer is None:
                endpointer = self.endpointer = Endpointer(agent.threshold)
            events = endpointer.push(value.caller_audio, value.encoding, value.sample_rate_hertz)
            if not events:
                return [], False
            responses = []
            for event in events:
                if event == "start":
                    responses.append(event_only(OUT_START_OF_INPUT, FINAL))
                else:
                    responses.extend(self.end_of_input())
                    return responses, True
            return responses, False
        if kind == "dtmf":
            if value == "1":
                return agent.reply(["greeting"], None), True
            if value == "0":
                return self.terminal(["transfer"], OUT_TRANSFER)
            if value == "#":
                return self.terminal(["goodbye"], OUT_SESSION_END)
            return agent.reply(["menu_help"], None), True
        if kind == "session_start":
            if self.conversation.session_started:
                return [], False  # a duplicate SESSION_START is ignored
            self.conversation.session_started = True
            return agent.reply(["greeting"], None), True
        if kind == "session_end":
            agent.close(self.conversation)
            return [pb.VoiceVAResponse()], True
        if value == EV_NO_INPUT:
            return agent.reply(["no_input", "menu_help"], None), True
        # START_OF_DTMF, CUSTOM_EVENT: an empty reply (just the closing FINAL).
        return agent.reply([], None), True

    def on_half_close(self) -> list:
        """The client half-closed: an utterance still running ends here."""
        if self.endpointer is not None and self.endpointer.speaking:
            return self.end_of_input()
        return []

    def end_of_input(self) -> list:
        """END_OF_INPUT, then the reply to the utterance."""
        agent = self.agent
        conversation = self.conversation
        responses = [event_only(OUT_END_OF_INPUT, CHUNK if agent.chunk_mode else FINAL)]
        utterance = self.endpointer.utterance()
        conversation.turns += 1
        if conversation.turns < agent.max_turns:
            responses.extend(agent.reply(["you_said", utterance], None))
        else:
            responses.extend(self.terminal(["you_said", utterance, "goodbye"], OUT_SESSION_END)[0])
        return responses

    def terminal(self, prompts, event: int) -> tuple[list, bool]:
        responses = self.agent.reply(prompts, event)
        self.agent.close(self.conversation)
        return responses, True


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    prompts = Prompts(args.prompts)
    agent = DemoAgent(args, prompts)
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    pb_grpc.add_VoiceVirtualAgentServicer_to_server(agent, server)
    port = server.add_insecure_port(f"{args.host}:{args.port}")
    if port == 0:
        raise SystemExit(f"baseline_server: cannot bind {args.host}:{args.port}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    reaper = asyncio.create_task(agent.reap())
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"listening on {host}:{port}", flush=True)
    await stop.wait()
    reaper.cancel()
    # Stop accepting; let running turns finish for up to the grace period.
    await server.stop(args.grace)


def main() -> int:
    parser = argparse.ArgumentParser(description="Minimal grpc.aio BYOVA demo agent (baseline).")
    parser.add_argument("--mode", choices=("wav", "chunk"), default="chunk", help="reply mode")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=50051, help="port (0: any free port)")
    parser.add_argument("--max-turns", type=int, default=3, help="utterances before goodbye")
    parser.add_argument("--agent-id", default="demo", help="the virtual agent id served")
    parser.add_argument(
        "--threshold", type=int, default=DEFAULT_THRESHOLD, help="speech RMS threshold (of 32768)"
    )
    parser.add_argument("--grace", type=float, default=5.0, help="shutdown grace period, seconds")
    parser.add_argument(
        "--gen-dir", type=pathlib.Path, default=stubs.DEFAULT_GEN, help="stubs folder"
    )
    parser.add_argument("--prompts", type=pathlib.Path, default=DEFAULT_PROMPTS, help="prompts")
    args = parser.parse_args()
    if args.max_turns < 1:
        parser.error("--max-turns must be at least 1")
    load_stubs(args.gen_dir)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
