// Placeholder translation unit until this folder has sources; delete when adding the first one.
namespace xopd { void placeholder_distill() {} }
