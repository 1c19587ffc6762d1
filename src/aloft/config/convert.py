def convert_to_aloft_yaml(path): raise NotImplementedError
