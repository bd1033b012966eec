// BiLLa's prompt as a Jinja chat template: the one text written into converted GGUFs (tokenizer.chat_template) and
// into restored Hugging Face folders (tokenizer_config.json's chat_template), so that llama.cpp, transformers'
// apply_chat_template and vLLM build the prompt BiLLa's script builds, and the one prompt-format.ts recognises.
//
// BiLLa's prompt: one BOS, then `Human: {q}\nAssistant: {a}` turns joined by `\n` with no EOS between them, the last
// turn ending in `Assistant: `. System (and developer) messages are read as the app's own API reads them
// (openai-protocol.ts, billa-chat-wrapper.ts), the way BiLLa's FastChat-style evaluation code renders its `system`
// field: all of them joined by `\n`, then `\n`, before the first `Human:` line; none (or one empty) leaves BiLLa's
// prompt exactly as it was trained. Consecutive messages of one role are one turn, joined by `\n`, as the API joins
// them. A conversation must start with the user; other roles (tools) are refused with a message saying why.
//
// Written with the Jinja that transformers (Python's jinja2, trim_blocks and lstrip_blocks on), llama.cpp's server
// and node-llama-cpp (@huggingface/jinja) all run: newlines only inside string literals, state in a namespace.
export const BILLA_CHAT_TEMPLATE = [
  "{%- set ns = namespace(system='', systems=0, role='') -%}",
  "{%- for message in messages -%}",
  "{%- if message['role'] == 'system' or message['role'] == 'developer' -%}",
  "{%- set ns.system = ns.system + ('\\n' if ns.systems > 0 else '') + message['content'] -%}",
  "{%- set ns.systems = ns.systems + 1 -%}",
  "{%- endif -%}",
  "{%- endfor -%}",
  "{{- bos_token -}}",
  "{%- if ns.system != '' -%}{{- ns.system + '\\n' -}}{%- endif -%}",
  "{%- for message in messages -%}",
  "{%- if message['role'] == 'user' -%}",
  "{%- if ns.role == 'user' -%}{{- '\\n' + message['content'] -}}",
  "{%- else -%}{{- ('\\n' if ns.role == 'assistant' else '') + 'Human: ' + message['content'] -}}{%- endif -%}",
  "{%- set ns.role = 'user' -%}",
  "{%- elif message['role'] == 'assistant' -%}",
  "{%- if ns.role == '' -%}{{- raise_exception('A BiLLa conversation starts with a user message (after any system messages).') -}}",
  "{%- elif ns.role == 'assistant' -%}{{- '\\n' + message['content'] -}}",
  "{%- else -%}{{- '\\nAssistant: ' + message['content'] -}}{%- endif -%}",
  "{%- set ns.role = 'assistant' -%}",
  "{%- elif message['role'] != 'system' and message['role'] != 'developer' -%}",
  "{{- raise_exception('BiLLa has no ' + message['role'] + ' role: send system, user and assistant messages only.') -}}",
  "{%- endif -%}",
  "{%- endfor -%}",
  "{%- if add_generation_prompt and ns.role == 'user' -%}{{- '\\nAssistant: ' -}}{%- endif -%}",
].join("");
