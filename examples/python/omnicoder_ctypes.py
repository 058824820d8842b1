"""OmniCoder from Python through its C API (ctypes, standard library only).

    from omnicoder_ctypes import Library
    lib = Library("/usr/local/lib/libomnicoder.so")
    with lib.engine(n_threads=2) as engine, engine.load("model.gguf") as model:
        print(model.generate("def fib(n):", max_tokens=64, temperature=0))

Every call that fails raises OmniCoderError with the library's message.
"""
import ctypes
import ctypes.util
import os

OC_OK = 0
OC_ERR_BUFFER_TOO_SMALL = 8
OC_TOKENIZE_ADD_SPECIAL = 1
OC_TOKENIZE_PARSE_SPECIAL = 2
KV_TYPES = {"f16": 0, "f32": 1}
ISAS = {"auto": 0, "ref": 1, "avx2": 2, "avx512": 3, "neon": 4}


class OmniCoderError(RuntimeError):
    def __init__(self, status, message):
        super().__init__(f"{message} (status {status})")
        self.status = status


class EngineParams(ctypes.Structure):
    _fields_ = [("n_threads", ctypes.c_int32), ("isa", ctypes.c_int), ("log", ctypes.c_void_p),
                ("log_user", ctypes.c_void_p)]


class ModelParams(ctypes.Structure):
    _fields_ = [("vocab_only", ctypes.c_uint8), ("check_tensors", ctypes.c_uint8), ("use_mmap", ctypes.c_uint8),
                ("prefetch", ctypes.c_uint8), ("mem_budget", ctypes.c_uint64), ("expert_slots", ctypes.c_int32),
                ("pager_policy", ctypes.c_int), ("routing_trace", ctypes.c_char_p),
                ("planned_ctx_len", ctypes.c_int32), ("planned_batch", ctypes.c_int32),
                ("planned_kv_type", ctypes.c_int), ("progress", ctypes.c_void_p), ("progress_user", ctypes.c_void_p)]


class ModelInfo(ctypes.Structure):
    _fields_ = [("arch", ctypes.c_char_p), ("name", ctypes.c_char_p), ("n_layers", ctypes.c_int32),
                ("dim", ctypes.c_int32), ("vocab_size", ctypes.c_int32), ("ctx_len", ctypes.c_int32),
                ("n_experts", ctypes.c_int32), ("n_experts_active", ctypes.c_int32), ("vocab_only", ctypes.c_uint8),
                ("file_bytes", ctypes.c_uint64), ("non_expert_bytes", ctypes.c_uint64),
                ("expert_bytes", ctypes.c_uint64)]


class SessionParams(ctypes.Structure):
    _fields_ = [("ctx_len", ctypes.c_int32), ("batch", ctypes.c_int32), ("kv_type", ctypes.c_int),
                ("allow_beyond_trained_ctx", ctypes.c_uint8), ("n_seq", ctypes.c_int32), ("n_cells", ctypes.c_int32)]


class SamplerParams(ctypes.Structure):
    _fields_ = [("temperature", ctypes.c_float), ("top_k", ctypes.c_int32), ("top_p", ctypes.c_float),
                ("min_p", ctypes.c_float), ("repeat_penalty", ctypes.c_float), ("repeat_last_n", ctypes.c_int32),
                ("seed", ctypes.c_uint64)]


class BatchToken(ctypes.Structure):
    _fields_ = [("token", ctypes.c_int32), ("seq", ctypes.c_int32), ("pos", ctypes.c_int32),
                ("logits", ctypes.c_int32)]


def _find_library():
    env = os.environ.get("OMNICODER_LIB")
    if env:
        return env
    return ctypes.util.find_library("omnicoder") or "libomnicoder.so"


class Library:
    """The loaded shared library with its function signatures declared."""

    def __init__(self, path=None):
        self.c = ctypes.CDLL(path or _find_library())
        c, vp, i32, sz = self.c, ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t
        pvp = ctypes.POINTER(vp)
        sigs = {
            "oc_last_error": (ctypes.c_char_p, []),
            "oc_version": (ctypes.c_char_p, []),
            "oc_abi_version": (i32, []),
            "oc_engine_default_params": (EngineParams, []),
            "oc_engine_create": (ctypes.c_int, [ctypes.POINTER(EngineParams), pvp]),
            "oc_engine_free": (None, [vp]),
            "oc_engine_isa": (ctypes.c_char_p, [vp]),
            "oc_model_default_params": (ModelParams, []),
            "oc_model_load": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.POINTER(ModelParams), pvp]),
            "oc_model_free": (None, [vp]),
            "oc_model_close": (ctypes.c_int, [vp]),
            "oc_model_get_info": (ctypes.c_int, [vp, ctypes.POINTER(ModelInfo)]),
            "oc_tokenize": (ctypes.c_int, [vp, ctypes.c_char_p, sz, ctypes.c_uint32, ctypes.POINTER(i32),
                                           ctypes.POINTER(sz)]),
            "oc_token_to_piece": (ctypes.c_int, [vp, i32, ctypes.c_char_p, ctypes.POINTER(sz)]),
            "oc_model_is_end_of_generation": (i32, [vp, i32]),
            "oc_session_default_params": (SessionParams, []),
            "oc_session_create": (ctypes.c_int, [vp, vp, ctypes.POINTER(SessionParams), pvp]),
            "oc_session_free": (None, [vp]),
            "oc_session_eval": (ctypes.c_int, [vp, ctypes.POINTER(i32), sz, i32]),
            "oc_session_decode": (ctypes.c_int, [vp, ctypes.POINTER(BatchToken), sz]),
            "oc_session_logits": (ctypes.POINTER(ctypes.c_float), [vp, i32]),
            "oc_session_vocab_size": (i32, [vp]),
            "oc_sampler_default_params": (SamplerParams, []),
            "oc_sampler_create": (ctypes.c_int, [ctypes.POINTER(SamplerParams), i32, pvp]),
            "oc_sampler_free": (None, [vp]),
            "oc_sampler_sample": (ctypes.c_int, [vp, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(i32)]),
            "oc_sampler_accept": (ctypes.c_int, [vp, i32]),
        }
        for name, (restype, argtypes) in sigs.items():
            fn = getattr(c, name)
            fn.restype, fn.argtypes = restype, argtypes

    def check(self, status):
        if status != OC_OK:
            raise OmniCoderError(status, self.c.oc_last_error().decode("utf-8", "replace"))

    def version(self):
        return self.c.oc_version().decode()

    def engine(self, n_threads=0, isa="auto"):
        return Engine(self, n_threads, isa)


class _Handle:
    _free = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.h:
            getattr(self.lib.c, self._free)(self.h)
            self.h = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Engine(_Handle):
    _free = "oc_engine_free"

    def __init__(self, lib, n_threads, isa):
        self.lib, self.h = lib, None
        p = lib.c.oc_engine_default_params()
        p.n_threads, p.isa = n_threads, ISAS[isa]
        h = ctypes.c_void_p()
        lib.check(lib.c.oc_engine_create(ctypes.byref(p), ctypes.byref(h)))
        self.h = h

    def isa(self):
        return self.lib.c.oc_engine_isa(self.h).decode()

    def load(self, path, expert_slots=0):
        return Model(self, path, expert_slots)


class Model(_Handle):
    _free = "oc_model_free"

    def __init__(self, engine, path, expert_slots):
        self.lib, self.engine, self.h = engine.lib, engine, None
        p = self.lib.c.oc_model_default_params()
        p.expert_slots = expert_slots
        h = ctypes.c_void_p()
        self.lib.check(self.lib.c.oc_model_load(engine.h, os.fsencode(path), ctypes.byref(p), ctypes.byref(h)))
        self.h = h
        info = ModelInfo()
        self.lib.check(self.lib.c.oc_model_get_info(self.h, ctypes.byref(info)))
        self.arch, self.vocab_size, self.n_experts = info.arch.decode(), info.vocab_size, info.n_experts

    def close(self):
        if self.h:
            self.lib.check(self.lib.c.oc_model_close(self.h))
        super().close()

    def tokenize(self, text, add_special=True):
        data = text.encode("utf-8")
        n = ctypes.c_size_t(len(data) + 8)
        while True:
            buf = (ctypes.c_int32 * n.value)()
            st = self.lib.c.oc_tokenize(self.h, data, len(data), OC_TOKENIZE_ADD_SPECIAL if add_special else 0, buf,
                                        ctypes.byref(n))
            if st != OC_ERR_BUFFER_TOO_SMALL:
                self.lib.check(st)
                return list(buf[:n.value])

    def piece(self, token):
        n = ctypes.c_size_t(64)
        while True:
            buf = ctypes.create_string_buffer(n.value)
            st = self.lib.c.oc_token_to_piece(self.h, token, buf, ctypes.byref(n))
            if st != OC_ERR_BUFFER_TOO_SMALL:
                self.lib.check(st)
                return buf.raw[:n.value]

    def is_end(self, token):
        return bool(self.lib.c.oc_model_is_end_of_generation(self.h, token))

    def session(self, ctx_len=0, n_seq=1, kv_type="f16"):
        return Session(self, ctx_len, n_seq, kv_type)

    def generate(self, prompt, max_tokens=64, temperature=0.0, seed=0, ctx_len=0):
        """Continuation of prompt as text (decoded at the end, so characters split across tokens join)."""
        return self.generate_bytes(prompt, max_tokens, temperature, seed, ctx_len).decode("utf-8", "replace")

    def generate_bytes(self, prompt, max_tokens=64, temperature=0.0, seed=0, ctx_len=0):
        """Continuation of prompt: the bytes of the generated tokens."""
        with self.session(ctx_len=ctx_len) as s, Sampler(self.lib, self.vocab_size, temperature, seed) as sampler:
            tokens = self.tokenize(prompt)
            for t in tokens:
                sampler.accept(t)
            s.eval(tokens)
            out = b""
            for _ in range(max_tokens):
                t = sampler.sample(s.logits())
                if self.is_end(t):
                    break
                out += self.piece(t)
                s.eval([t])
            return out


class Session(_Handle):
    _free = "oc_session_free"

    def __init__(self, model, ctx_len, n_seq, kv_type):
        self.lib, self.model, self.h = model.lib, model, None
        p = self.lib.c.oc_session_default_params()
        p.ctx_len, p.n_seq, p.kv_type = ctx_len, n_seq, KV_TYPES[kv_type]
        h = ctypes.c_void_p()
        self.lib.check(self.lib.c.oc_session_create(model.engine.h, model.h, ctypes.byref(p), ctypes.byref(h)))
        self.h = h

    def eval(self, tokens):
        arr = (ctypes.c_int32 * len(tokens))(*tokens)
        self.lib.check(self.lib.c.oc_session_eval(self.h, arr, len(tokens), 0))

    def decode(self, batch):
        """batch: (token, seq, pos, want_logits) tuples evaluated in shared forward steps."""
        arr = (BatchToken * len(batch))(*[BatchToken(t, s, p, int(w)) for t, s, p, w in batch])
        self.lib.check(self.lib.c.oc_session_decode(self.h, arr, len(batch)))

    def logits(self, index=-1):
        ptr = self.lib.c.oc_session_logits(self.h, index)
        if not ptr:
            raise OmniCoderError(1, f"no logits for row {index}")
        return ptr


class Sampler(_Handle):
    _free = "oc_sampler_free"

    def __init__(self, lib, vocab_size, temperature=0.8, seed=0):
        self.lib, self.h = lib, None
        p = lib.c.oc_sampler_default_params()
        p.temperature, p.seed = temperature, seed
        h = ctypes.c_void_p()
        lib.check(lib.c.oc_sampler_create(ctypes.byref(p), vocab_size, ctypes.byref(h)))
        self.h = h

    def sample(self, logits):
        t = ctypes.c_int32()
        self.lib.check(self.lib.c.oc_sampler_sample(self.h, logits, ctypes.byref(t)))
        return t.value

    def accept(self, token):
        self.lib.check(self.lib.c.oc_sampler_accept(self.h, token))
