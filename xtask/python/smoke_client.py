#!/usr/bin/env python3
"""Smoke client: one scripted BYOVA call against a demo-agent server, checked message by message.

The call (a fresh conversation id each time):

1. ``ListVirtualAgents``: at least one agent, exactly one default.
2. SESSION_START, half-close: the greeting (barge-in) with input mode VOICE_DTMF and its config.
3. A spoken turn sent as 20 ms mu-law frames: 500 ms of silence, a 1 s tone burst, then silence
   until END_OF_INPUT arrives. Expected: one START_OF_INPUT (an event-only FINAL, not before the
   tone lasted 100 ms), one END_OF_INPUT (not before 800 ms of trailing silence; a CHUNK in
   CHUNK mode, a FINAL in WAV mode), then "you said" and the caller's own audio echoed back.
4. DTMF ``#``: goodbye with SESSION_END first and no next-input settings; the RPC ends there.
5. SESSION_END on the finished call: one empty FINAL.

Every RPC must end with status OK, its last message must be a FINAL, at most one FINAL may carry
prompts, CHUNK audio must be 100 B - 64 KiB of raw mu-law, WAV prompts must be 8 kHz mono mu-law
WAV files, and nothing may follow a terminal event. Each response is printed; the first broken
rule ends the run with exit status 1.

    target/python-baseline/venv/bin/python xtask/python/smoke_client.py --target 127.0.0.1:50051 --mode chunk

``--calls N --concurrency C`` repeats the call (checks included) N times, C at a time, and prints
only failures and a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import pathlib
import sys
import time
import uuid
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

import stubs
from wavfile import WavError, read_mulaw_wav

FRAME = 160  # 20 ms of 8 kHz mu-law
LEAD_FRAMES = 25  # 500 ms of silence before the tone
TONE_FRAMES = 50  # 1 s tone burst
DEBOUNCE_FRAMES = 5  # START_OF_INPUT cannot come before 100 ms of tone
END_SILENCE_FRAMES = 40  # END_OF_INPUT cannot come before 800 ms of trailing silence
MAX_TRAILING_FRAMES = 250  # give up when END_OF_INPUT has not come after 5 s of silence
MULAW_SILENCE = 0xFF

FINAL, PARTIAL, CHUNK = 0, 1, 2
OUT_SESSION_END, OUT_TRANSFER, OUT_START_OF_INPUT, OUT_END_OF_INPUT = 1, 2, 4, 5
TERMINAL = {OUT_SESSION_END, OUT_TRANSFER}
EVENT_NAMES = {
    1: "SESSION_END", 2: "TRANSFER_TO_AGENT", 3: "CUSTOM_EVENT", 4: "START_OF_INPUT",
    5: "END_OF_INPUT", 6: "NO_MATCH", 7: "NO_INPUT",
}
TYPE_NAMES = {FINAL: "FINAL", PARTIAL: "PARTIAL", CHUNK: "CHUNK"}
INPUT_VOICE_DTMF = 3
EV_SESSION_START, EV_SESSION_END = 1, 2
DTMF_POUND = 16
MULAW = 2

pb = None
common = None
pb_grpc = None
grpc = None


def load_stubs(gen_dir: pathlib.Path) -> None:
    """Imports grpc and the stubs generated from proto/ into this module's globals."""
    global pb, common, pb_grpc, grpc
    grpc, common, pb, pb_grpc = stubs.load(gen_dir, "smoke_client")


class Broken(Exception):
    """The server broke a rule."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Broken(message)


def caller_audio() -> tuple[list[bytes], bytes]:
    """The lead silence and tone frames (mu-law), and the tone's mu-law bytes."""
    silence = bytes([MULAW_SILENCE]) * FRAME
    samples = TONE_FRAMES * FRAME
    # A 300 Hz + 1 kHz tone at about -10 dBFS, with 5 ms ramps.
    pcm = bytearray()
    for i in range(samples):
        ramp = min(1.0, i / 40, (samples - 1 - i) / 40)
        value = 6000 * math.sin(2 * math.pi * 300 * i / 8000) + 4000 * math.sin(
            2 * math.pi * 1000 * i / 8000
        )
        pcm += int(ramp * value).to_bytes(2, "little", signed=True)
    tone = audioop.lin2ulaw(bytes(pcm), 2)
    frames = [silence] * LEAD_FRAMES
    frames += [tone[k : k + FRAME] for k in range(0, len(tone), FRAME)]
    return frames, tone


def describe(response) -> str:
    kind = TYPE_NAMES.get(response.response_type, str(response.response_type))
    parts = [kind]
    if response.output_events:
        names = [EVENT_NAMES.get(e.event_type, str(e.event_type)) for e in response.output_events]
        parts.append("events=" + ",".join(names))
    for prompt in response.prompts:
        audio = prompt.audio_content
        shape = "wav" if audio[:4] == b"RIFF" else "raw"
        text = f" text={prompt.text!r}" if prompt.text else ""
        parts.append(f"prompt({len(audio)} B {shape}, barge_in={prompt.is_barge_in_enabled}{text})")
    if response.input_mode:
        parts.append(f"input_mode={response.input_mode}")
    if response.HasField("input_handling_config"):
        config = response.input_handling_config
        parts.append(
            "config(dtmf len={} inter={} term={}; complete={} no_input={})".format(
                config.dtmf_config.dtmf_input_length,
                config.dtmf_config.inter_digit_timeout_msec,
                config.dtmf_config.termchar,
                config.speech_timers.complete_timeout_msec,
                config.speech_timers.no_input_timeout_msec,
            )
        )
    return " ".join(parts)


def check_rpc(name: str, responses: list, mode: str) -> None:
    """The rules every RPC follows."""
    if not responses:
        return
    expect(responses[-1].response_type == FINAL, f"{name}: the last message is not a FINAL")
    finals_with_prompts = [
        r for r in responses if r.response_type == FINAL and any(p.audio_content for p in r.prompts)
    ]
    expect(len(finals_with_prompts) <= 1, f"{name}: more than one FINAL carries prompts")
    for index, response in enumerate(responses):
        expect(
            response.response_type in (FINAL, CHUNK),
            f"{name}: message {index} has response type {response.response_type}",
        )
        events = [e.event_type for e in response.output_events]
        if any(e in TERMINAL for e in events):
            expect(events[0] in TERMINAL, f"{name}: a terminal event is not the first event")
            expect(index == len(responses) - 1, f"{name}: messages follow a terminal event")
        for prompt in response.prompts:
            audio = prompt.audio_content
            if response.response_type == CHUNK:
                expect(mode == "chunk", f"{name}: a CHUNK in WAV mode")
                expect(
                    100 <= len(audio) <= 65_536,
                    f"{name}: CHUNK of {len(audio)} B (100 B - 64 KiB allowed)",
                )
                expect(audio[:4] != b"RIFF", f"{name}: a CHUNK carries a WAV header")
            elif audio:
                expect(mode == "wav", f"{name}: a FINAL carries audio in CHUNK mode")
                try:
                    read_mulaw_wav(audio)
                except WavError as err:
                    raise Broken(f"{name}: a prompt is not an 8 kHz mu-law WAV: {err}") from err


def prompt_audio(responses: list, mode: str) -> list[bytes]:
    """The audio of the reply, one entry per prompt (WAV) or per CHUNK (CHUNK)."""
    out = []
    for response in responses:
        for prompt in response.prompts:
            if prompt.audio_content:
                audio = prompt.audio_content
                out.append(read_mulaw_wav(audio) if mode == "wav" else audio)
    return out


def check_next_input(name: str, final) -> None:
    expect(final.input_mode == INPUT_VOICE_DTMF, f"{name}: input mode is not VOICE_DTMF")
    expect(final.HasField("input_handling_config"), f"{name}: no input handling config")
    dtmf = final.input_handling_config.dtmf_config
    expect(
        (dtmf.dtmf_input_length, dtmf.inter_digit_timeout_msec, dtmf.termchar) == (1, 3000, DTMF_POUND),
        f"{name}: DTMF config is not (length 1, 3000 ms, #)",
    )
    timers = final.input_handling_config.speech_timers
    expect(
        (timers.complete_timeout_msec, timers.no_input_timeout_msec) == (800, 10_000),
        f"{name}: speech timers are not (800 ms, 10000 ms)",
    )


class Call:
    """One scripted call."""

    def __init__(self, stub, args, frames, tone, verbose: bool) -> None:
        self.stub = stub
        self.args = args
        self.frames = frames
        self.tone = tone
        self.verbose = verbose
        self.conversation_id = f"smoke-{uuid.uuid4()}"

    def log(self, text: str) -> None:
        if self.verbose:
            print(text, flush=True)

    def request(self, **input_fields):
        return pb.VoiceVARequest(
            conversation_id=self.conversation_id,
            customer_org_id="smoke-org",
            virtual_agent_id=self.args.agent_id,
            **input_fields,
        )

    async def simple_rpc(self, name: str, request) -> list:
        """Sends one request, half-closes, collects the responses."""
        self.log(f"-- {name}")
        call = self.stub.ProcessCallerInput()
        try:
            await call.write(request)
            await call.done_writing()
        except (asyncio.InvalidStateError, grpc.aio.AioRpcError):
            pass  # the server may end the RPC before the half-close; its status tells
        responses = []
        async for response in call:
            self.log(f"   {describe(response)}")
            responses.append(response)
        code = await call.code()
        expect(code == grpc.StatusCode.OK, f"{name}: status {code} ({await call.details()})")
        check_rpc(name, responses, self.args.mode)
        return responses

    async def run(self) -> None:
        mode = self.args.mode
        # 2. SESSION_START
        responses = await self.simple_rpc(
            "session start",
            self.request(event_input=common.EventInput(event_type=EV_SESSION_START)),
        )
        expect(responses, "session start: no response")
        final = responses[-1]
        expect(not final.output_events, "session start: the greeting carries events")
        check_next_input("session start", final)
        greeting = prompt_audio(responses, mode)
        expect(greeting, "session start: no greeting audio")
        expect(
            all(p.is_barge_in_enabled for r in responses for p in r.prompts),
            "session start: the greeting is not barge-in enabled",
        )
        if mode == "chunk":
            expect(not final.prompts, "session start: the closing FINAL carries prompts")

        # 3. The spoken turn.
        await self.spoken_turn()

        # 4. DTMF '#': goodbye and SESSION_END.
        responses = await self.simple_rpc(
            "dtmf #", self.request(dtmf_input=common.DTMFInputs(dtmf_events=[DTMF_POUND]))
        )
        expect(responses, "dtmf #: no response")
        final = responses[-1]
        expect(
            [e.event_type for e in final.output_events][:1] == [OUT_SESSION_END],
            "dtmf #: the reply does not end the session",
        )
        expect(final.input_mode == 0, "dtmf #: a session-ending reply sets an input mode")
        expect(
            not final.HasField("input_handling_config"),
            "dtmf #: a session-ending reply carries an input config",
        )
        expect(prompt_audio(responses, mode), "dtmf #: no goodbye audio")
        expect(
            not any(p.is_barge_in_enabled for r in responses for p in r.prompts),
            "dtmf #: a prompt with a terminal event is barge-in enabled",
        )

        # 5. SESSION_END on the ended call.
        responses = await self.simple_rpc(
            "session end", self.request(event_input=common.EventInput(event_type=EV_SESSION_END))
        )
        expect(len(responses) == 1, f"session end: {len(responses)} responses, expected 1")
        expect(responses[0] == pb.VoiceVAResponse(), "session end: the response is not empty")

    async def spoken_turn(self) -> None:
        name = "spoken turn"
        mode = self.args.mode
        self.log(f"-- {name}")
        call = self.stub.ProcessCallerInput()
        responses: list = []
        sent_at_event: dict[int, int] = {}
        sent = 0
        end_seen = asyncio.Event()
        # grpcio quirk: a write that races the server's end of the RPC replaces the call's status
        # with a local INTERNAL error ("Failed execute_batch"), although the server ended with OK.
        late_write = False

        async def read() -> None:
            try:
                await read_all()
            except grpc.aio.AioRpcError:
                pass  # the status is checked below

        async def read_all() -> None:
            async for response in call:
                self.log(f"   {describe(response)}")
                responses.append(response)
                for event in response.output_events:
                    if event.event_type in (OUT_START_OF_INPUT, OUT_END_OF_INPUT):
                        expect(
                            event.event_type not in sent_at_event,
                            f"{name}: {EVENT_NAMES[event.event_type]} sent twice",
                        )
                        sent_at_event[event.event_type] = sent
                        if event.event_type == OUT_END_OF_INPUT:
                            end_seen.set()

        reader = asyncio.create_task(read())
        silence = bytes([MULAW_SILENCE]) * FRAME
        start = time.monotonic()
        all_frames = list(self.frames)
        try:
            index = 0
            while not end_seen.is_set() and not reader.done():
                if index < len(self.frames):
                    frame = self.frames[index]
                elif index < len(self.frames) + MAX_TRAILING_FRAMES:
                    frame = silence
                    all_frames.append(frame)
                else:
                    raise Broken(f"{name}: no END_OF_INPUT after 5 s of trailing silence")
                audio = pb.VoiceInput(caller_audio=frame)
                if index == 0:
                    audio.encoding = MULAW
                    audio.sample_rate_hertz = 8000
                    audio.language_code = "en-US"
                # Counted before the write completes: the server may answer before it returns.
                sent += 1
                try:
                    await call.write(self.request(audio_input=audio))
                except asyncio.InvalidStateError:
                    break  # the server ended the RPC
                except grpc.aio.AioRpcError as err:
                    late_write = err.code() == grpc.StatusCode.INTERNAL
                    break
                index += 1
                if not self.args.fast:
                    delay = start + index * 0.02 - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
            try:
                await call.done_writing()
            except (asyncio.InvalidStateError, grpc.aio.AioRpcError):
                pass
            await reader
        finally:
            reader.cancel()
        code = await call.code()
        if late_write and code == grpc.StatusCode.INTERNAL:
            # The server's own status was lost to the quirk above; the messages are checked.
            self.log("   (status not known: the last audio write raced the end of the RPC)")
        else:
            expect(code == grpc.StatusCode.OK, f"{name}: status {code} ({await call.details()})")
        check_rpc(name, responses, mode)

        kinds = [
            (r.response_type, tuple(e.event_type for e in r.output_events), bool(r.prompts))
            for r in responses
        ]
        expect(len(responses) >= 3, f"{name}: only {len(responses)} responses")
        expect(
            kinds[0] == (FINAL, (OUT_START_OF_INPUT,), False),
            f"{name}: the first response is not an event-only FINAL START_OF_INPUT",
        )
        eoi_type = CHUNK if mode == "chunk" else FINAL
        expect(
            kinds[1] == (eoi_type, (OUT_END_OF_INPUT,), False),
            f"{name}: the second response is not an event-only "
            f"{TYPE_NAMES[eoi_type]} END_OF_INPUT",
        )
        expect(
            sent_at_event[OUT_START_OF_INPUT] >= LEAD_FRAMES + DEBOUNCE_FRAMES,
            f"{name}: START_OF_INPUT after {sent_at_event[OUT_START_OF_INPUT]} frames, "
            "before the tone lasted 100 ms",
        )
        expect(
            sent_at_event[OUT_END_OF_INPUT] >= LEAD_FRAMES + TONE_FRAMES + END_SILENCE_FRAMES,
            f"{name}: END_OF_INPUT after {sent_at_event[OUT_END_OF_INPUT]} frames, "
            "before 800 ms of trailing silence",
        )
        reply = responses[2:]
        final = reply[-1]
        check_next_input(name, final)
        expect(
            not any(e.event_type in TERMINAL for e in final.output_events),
            f"{name}: the first utterance ends the call",
        )
        audio = prompt_audio(reply, mode)
        if mode == "wav":
            expect(len(audio) == 2, f"{name}: {len(audio)} prompts, expected you_said and the echo")
            echo = audio[1]
        else:
            echo = b"".join(audio)
        # The echo is the caller's own audio: the whole tone, then only the trailing silence.
        expect(self.tone in echo, f"{name}: the reply does not contain the caller's tone")
        after = echo[echo.index(self.tone) + len(self.tone) :]
        expect(
            set(after) <= {MULAW_SILENCE},
            f"{name}: the reply continues after the tone with something else than silence",
        )
        if mode == "wav":
            sent_audio = b"".join(all_frames[:sent])
            expect(
                sent_audio.find(echo) != -1,
                f"{name}: the echoed audio is not a contiguous part of the caller's audio",
            )


async def run(args: argparse.Namespace) -> int:
    frames, tone = caller_audio()
    async with grpc.aio.insecure_channel(args.target) as channel:
        stub = pb_grpc.VoiceVirtualAgentStub(channel)
        agents = await stub.ListVirtualAgents(common.ListVARequest(customer_org_id="smoke-org"))
        ids = [a.virtual_agent_id for a in agents.virtual_agents]
        defaults = [a for a in agents.virtual_agents if a.is_default]
        if not ids or len(defaults) != 1:
            print(f"FAIL ListVirtualAgents: {ids}, {len(defaults)} default(s)", file=sys.stderr)
            return 1
        if args.agent_id is None:
            args.agent_id = defaults[0].virtual_agent_id
        verbose = args.calls == 1
        if verbose:
            print(f"-- ListVirtualAgents: {ids} (default {args.agent_id!r})")
        limit = asyncio.Semaphore(args.concurrency)
        failures = 0
        started = time.monotonic()

        async def one() -> None:
            nonlocal failures
            async with limit:
                call = Call(stub, args, frames, tone, verbose)
                try:
                    await call.run()
                except (Broken, grpc.aio.AioRpcError) as err:
                    failures += 1
                    print(f"FAIL {call.conversation_id}: {err}", file=sys.stderr)

        await asyncio.gather(*(one() for _ in range(args.calls)))
        elapsed = time.monotonic() - started
    if failures:
        print(f"{failures} of {args.calls} call(s) broke the rules", file=sys.stderr)
        return 1
    print(f"OK: {args.calls} call(s) in {args.mode} mode followed the rules ({elapsed:.1f} s)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Scripted BYOVA call against a demo agent.")
    parser.add_argument("--target", default="127.0.0.1:50051", help="server HOST:PORT")
    parser.add_argument("--mode", choices=("wav", "chunk"), required=True, help="server's mode")
    parser.add_argument("--agent-id", default=None, help="virtual agent id (default: the default)")
    parser.add_argument("--fast", action="store_true", help="send audio without 20 ms pacing")
    parser.add_argument("--calls", type=int, default=1, help="how many calls")
    parser.add_argument("--concurrency", type=int, default=1, help="calls at once")
    parser.add_argument(
        "--gen-dir", type=pathlib.Path, default=stubs.DEFAULT_GEN, help="stubs folder"
    )
    args = parser.parse_args()
    if args.calls < 1 or args.concurrency < 1:
        parser.error("--calls and --concurrency must be at least 1")
    load_stubs(args.gen_dir)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
