"""The files stage: users, groups, files, directories, links, units, presets."""
