// placeholder until the server lands
#include <cstdio>
int main() { std::puts("vellumd: not built yet"); return 1; }
