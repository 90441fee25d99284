"""An uninstrumented script calling a model API with the official openai SDK: no OpenTelemetry, no
aibom anything. The API key comes as an argument (or from the environment, as users also do).

usage: openai_client.py --base-url URL --model NAME [--key KEY] [--resolver IP] [--ca FILE]
Prints one JSON line: {"pid": ..., "content": ...}.
"""
import argparse
import json
import os
import ssl

import httpx
import openai

from resolve import use_resolver

p = argparse.ArgumentParser()
p.add_argument("--base-url", required=True)
p.add_argument("--model", required=True)
p.add_argument("--key", default=None)
p.add_argument("--resolver", default=None)
p.add_argument("--ca", default=None)
a = p.parse_args()

if a.resolver:
    use_resolver(a.resolver)
verify = ssl.create_default_context(cafile=a.ca) if a.ca else True
client = openai.OpenAI(api_key=a.key or os.environ.get("OPENAI_API_KEY"), base_url=a.base_url, max_retries=0,
                       http_client=httpx.Client(verify=verify, timeout=20))
r = client.chat.completions.create(model=a.model, messages=[{"role": "user", "content": "say hello"}])
print(json.dumps({"pid": os.getpid(), "content": r.choices[0].message.content}), flush=True)
