package main

import (
	"io"

	"github.com/urfave/cli/v2"
)

const bashCompletion = `# bash completion for broker; load with: source <(broker completion bash)
_broker_complete() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == "-"* ]]; then
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _broker_complete broker
`

const zshCompletion = `#compdef broker
# zsh completion for broker; load with: source <(broker completion zsh)
_broker() {
  local -a opts
  local cur="${words[-1]}"
  if [[ "$cur" == "-"* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} "$cur" --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
if [[ "$(basename -- ${(%):-%x})" != "_broker" ]]; then
  compdef _broker broker
fi
`

func completionCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash or zsh)",
		ArgsUsage: "bash|zsh",
		Category:  "Extras",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				io.WriteString(e.stdout, bashCompletion)
			case "zsh":
				io.WriteString(e.stdout, zshCompletion)
			default:
				return &usageError{msg: "completion needs a shell: bash or zsh (e.g. source <(broker completion bash))"}
			}
			return nil
		},
	}
}
