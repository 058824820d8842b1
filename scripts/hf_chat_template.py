#!/usr/bin/python3
"""Renders a chat template the way Hugging Face transformers' apply_chat_template does
(Jinja2 ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, the
{% generation %} tag, its tojson, raise_exception and strftime_now), with Debian's
python3-jinja2. The reference our Jinja engine is compared with.

usage: hf_chat_template.py TEMPLATE CONTEXT.json NOW
CONTEXT is [messages] or {"messages", "tools", "add_generation_prompt", ...}; NOW is the
unix time strftime_now sees. Prints the text; on a template error prints it to stderr
and exits 1."""
import json
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class Generation(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_support"), [], [], body).set_lineno(lineno)

    def _support(self, caller):
        return caller()


def main():
    template = open(sys.argv[1], encoding="utf-8").read()
    context = json.load(open(sys.argv[2], encoding="utf-8"))
    now = datetime.fromtimestamp(int(sys.argv[3]))
    if isinstance(context, list):
        context = {"messages": context}
    variables = {"tools": None, "documents": None, "add_generation_prompt": True, "bos_token": "", "eos_token": ""}
    variables.update(context)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: now.strftime(fmt)
    try:
        out = env.from_string(template).render(**variables)
    except Exception as e:  # every template failure counts the same
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    sys.stdout.write(out)


if __name__ == "__main__":
    main()
