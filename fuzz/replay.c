/*
 * replay FILE...: runs a fuzz harness's LLVMFuzzerTestOneInput on each
 * file, without libFuzzer, so that `make check` can replay the corpus and
 * the kept crashes under ASan/UBSan with any compiler.
 */
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		unsigned char *buf;
		long size;

		if (!f || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0)
			return perror(argv[i]), 2;
		rewind(f);
		buf = malloc((size_t)size + 1);
		if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
			return perror(argv[i]), 2;
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)size);
		free(buf);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}
