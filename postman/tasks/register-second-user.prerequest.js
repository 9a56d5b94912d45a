makeUpUser('other_', 'postman_');
