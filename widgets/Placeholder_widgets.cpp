// Placeholder translation unit until widgets/ has sources.
namespace xopd { void placeholder_widgets() {} }
