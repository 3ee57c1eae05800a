// Placeholder translation unit for an ISA group that has no sources yet (keeps gyp/make happy).
namespace simdtensor { int empty_group_placeholder = 0; }
