namespace Qllm.Evaluation.Tasks;

/// <summary>
/// MMLU's 57 subjects and lm-eval's grouping of them (the "group" of each lm_eval/tasks/mmlu/default/mmlu_*.yaml:
/// mmlu_stem, mmlu_humanities, mmlu_social_sciences, mmlu_other; note that lm-eval files anatomy under stem).
/// </summary>
public static class MmluSubjects
{
    public const string Stem = "stem", Humanities = "humanities", SocialSciences = "social_sciences", Other = "other";

    public static readonly IReadOnlyList<string> Categories = [Stem, Other, SocialSciences, Humanities];

    public static readonly IReadOnlyDictionary<string, string> Category = new Dictionary<string, string>
    {
        ["abstract_algebra"] = Stem, ["anatomy"] = Stem, ["astronomy"] = Stem, ["business_ethics"] = Other,
        ["clinical_knowledge"] = Other, ["college_biology"] = Stem, ["college_chemistry"] = Stem,
        ["college_computer_science"] = Stem, ["college_mathematics"] = Stem, ["college_medicine"] = Other,
        ["college_physics"] = Stem, ["computer_security"] = Stem, ["conceptual_physics"] = Stem,
        ["econometrics"] = SocialSciences, ["electrical_engineering"] = Stem, ["elementary_mathematics"] = Stem,
        ["formal_logic"] = Humanities, ["global_facts"] = Other, ["high_school_biology"] = Stem,
        ["high_school_chemistry"] = Stem, ["high_school_computer_science"] = Stem,
        ["high_school_european_history"] = Humanities, ["high_school_geography"] = SocialSciences,
        ["high_school_government_and_politics"] = SocialSciences, ["high_school_macroeconomics"] = SocialSciences,
        ["high_school_mathematics"] = Stem, ["high_school_microeconomics"] = SocialSciences, ["high_school_physics"] = Stem,
        ["high_school_psychology"] = SocialSciences, ["high_school_statistics"] = Stem, ["high_school_us_history"] = Humanities,
        ["high_school_world_history"] = Humanities, ["human_aging"] = Other, ["human_sexuality"] = SocialSciences,
        ["international_law"] = Humanities, ["jurisprudence"] = Humanities, ["logical_fallacies"] = Humanities,
        ["machine_learning"] = Stem, ["management"] = Other, ["marketing"] = Other, ["medical_genetics"] = Other,
        ["miscellaneous"] = Other, ["moral_disputes"] = Humanities, ["moral_scenarios"] = Humanities, ["nutrition"] = Other,
        ["philosophy"] = Humanities, ["prehistory"] = Humanities, ["professional_accounting"] = Other,
        ["professional_law"] = Humanities, ["professional_medicine"] = Other, ["professional_psychology"] = SocialSciences,
        ["public_relations"] = SocialSciences, ["security_studies"] = SocialSciences, ["sociology"] = SocialSciences,
        ["us_foreign_policy"] = SocialSciences, ["virology"] = Other, ["world_religions"] = Humanities,
    };

    public static IEnumerable<string> Names => Category.Keys.Order(StringComparer.Ordinal);
}
