/*
 * min-pair: the least a program linked like sockpair (with GNU readline)
 * can do to make a socket pair and write 10 bytes; `make bench` compares
 * the start-up and run time of `sockpair pair` against it.
 */
#include <readline/readline.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int fds[2];

	/* Referenced so that the linker keeps the library, as sockpair does. */
	if (rl_readline_version == 0)
		return 2;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		return 1;
	return write(fds[0], "ABCdef123\n", 10) == 10 ? 0 : 1;
}
