"""Parts of aloft written as plugins: `keep_warm` (always registered) and
`strip_dependencies` (listed by users: `plugins: [aloft.plugins.builtin.strip_dependencies]`)."""
