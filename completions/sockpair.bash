# bash completion for sockpair(1).  Needs nothing from bash-completion.

_sockpair_commands="pair fork-echo listen connect talkback http-head bench proxy peers help"
_sockpair_globals="--trace -x --hexdump --stats --json --pcap -q --quiet -h --help -V --version"

_sockpair_options() {
	case $1 in
	pair) echo "-d --domain -t --type -P --protocol -m --message --raw --info --emulate --size" ;;
	fork-echo) echo "--style -t --type -i --interactive --pass-fd" ;;
	listen) echo "-p --port -a --address -U --unix -u --udp -b --backlog -k --keep-open -4 --ipv4 -6 --ipv6 --recv-fd --attach --creds" ;;
	connect) echo "-U --unix -u --udp -4 --ipv4 -6 --ipv6 -w --timeout --crlf -z --zero-io --send-fd -F --pass-fd-out --tls --cafile --sni --alpn --insecure" ;;
	talkback) echo "-p --port -a --address -b --backlog -4 --ipv4 -6 --ipv6 --max-clients --max-line --idle-timeout" ;;
	http-head) echo "-p --port --path -4 --ipv4 -6 --ipv6 -w --timeout --timing -n --count -i --interval --cafile --sni --alpn --insecure" ;;
	bench) echo "--via --mode --size --count --time --cpus --buffer" ;;
	peers) echo "--pid" ;;
	proxy) echo "--swap --once --max-clients --delay --rate --slice --close-after --reset-after --blackhole --faulty -w --timeout -b --backlog -4 --ipv4 -6 --ipv6" ;;
	esac
}

# The values an option takes, or "-" when it takes a value we cannot list.
_sockpair_values() {
	case $1:$2 in
	*:--pcap | connect:--cafile | http-head:--cafile) echo "=files" ;;
	connect:--alpn | http-head:--alpn) echo "h2 http/1.1 h2,http/1.1" ;;
	connect:--sni | http-head:--sni) echo "=hosts" ;;
	pair:-d | pair:--domain) echo "unix inet inet6" ;;
	pair:-t | pair:--type) echo "stream dgram seqpacket raw rdm" ;;
	fork-echo:-t | fork-echo:--type) echo "stream dgram seqpacket" ;;
	fork-echo:--style) echo "socket stream" ;;
	fork-echo:--pass-fd) echo "=files" ;;
	pair:-P | pair:--protocol) echo "0 tcp udp" ;;
	pair:-m | pair:--message | pair:--size) echo "-" ;;
	listen:-U | listen:--unix | connect:-U | connect:--unix) echo "=files" ;;
	listen:-p | listen:--port | listen:-b | listen:--backlog) echo "-" ;;
	listen:-a | listen:--address) echo "=hosts" ;;
	connect:-w | connect:--timeout | connect:--send-fd) echo "-" ;;
	talkback:-a | talkback:--address) echo "=hosts" ;;
	talkback:-p | talkback:--port | talkback:-b | talkback:--backlog) echo "-" ;;
	talkback:--max-clients | talkback:--max-line | talkback:--idle-timeout) echo "-" ;;
	http-head:-p | http-head:--port | http-head:--path | http-head:-w | http-head:--timeout | \
	http-head:-n | http-head:--count | http-head:-i | http-head:--interval) echo "-" ;;
	bench:--via) echo "pipe socketpair socketpair-dgram socketpair-seqpacket unix unix-dgram tcp tcp6 udp udp6" ;;
	bench:--mode) echo "latency throughput both" ;;
	bench:--cpus) echo "same split any" ;;
	bench:--size | bench:--count | bench:--time | bench:--buffer) echo "-" ;;
	proxy:--swap) echo "=files" ;;
	peers:--pid) echo "=pids" ;;
	proxy:--max-clients | proxy:-w | proxy:--timeout | proxy:-b | proxy:--backlog | proxy:--faulty) echo "-" ;;
	proxy:--delay | proxy:--rate | proxy:--slice | proxy:--close-after | proxy:--reset-after) echo "up: down:" ;;
	esac
}

# How many arguments (not options, not their values) stand between the
# command, at word $2, and the word being completed.
_sockpair_positionals() {
	local cmd=$1 i n=0 word
	for ((i = $2 + 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		=) ((i++)) ;;
		-*) [[ -n $(_sockpair_values "$cmd" "$word") && ${COMP_WORDS[i + 1]} != = ]] && ((i++)) ;;
		*) ((n++)) ;;
		esac
	done
	echo "$n"
}

_sockpair() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" cmd_at=0 i values positionals=0

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]} cmd_at=$i; break ;;
		esac
	done
	# --opt=value: bash splits the word at "=" (COMP_WORDBREAKS).
	if [[ $cur == = ]]; then
		cur=""
	elif [[ $prev == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	COMPREPLY=()
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_sockpair_globals" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_sockpair_commands" -- "$cur"))
		fi
		return
	fi
	if [[ $cmd == help ]]; then
		COMPREPLY=($(compgen -W "$_sockpair_commands" -- "$cur"))
		return
	fi
	values=$(_sockpair_values "$cmd" "$prev")
	case $values in
	-) return ;;
	=files)
		# Names as files: a directory gets its "/" and no space, and a
		# name with spaces stays one word.
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return ;;
	=hosts)
		COMPREPLY=($(compgen -A hostname -- "$cur"))
		return ;;
	=pids)
		# The running processes' ids, from /proc.
		COMPREPLY=($(compgen -W "$(cd /proc && printf '%s ' [0-9]*)" -- "$cur"))
		return ;;
	?*)
		# A comma-separated list (bench --via): the item after the last comma.
		local before=""
		[[ $cur == *,* ]] && before=${cur%,*},
		COMPREPLY=($(compgen -P "$before" -W "$values" -- "${cur##*,}"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_sockpair_options "$cmd") --trace -x --hexdump --stats --json -q --quiet -h --help" -- "$cur"))
		return
	fi
	# Only the host's position offers host names; a port's offers nothing.
	positionals=$(_sockpair_positionals "$cmd" "$cmd_at")
	if [[ ($cmd == connect || $cmd == http-head) && $positionals -eq 0 ]]; then
		COMPREPLY=($(compgen -A hostname -- "$cur"))
	elif [[ $cmd == peers ]]; then
		# PATH (a socket file) completes; a port, HOST:PORT or @NAME is typed.
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	elif [[ $cmd == proxy && $positionals -lt 2 ]]; then
		# LISTEN and TARGET: a port or HOST:PORT is typed; a path completes.
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}

complete -F _sockpair sockpair
